//! Keyset pagination: `limit` plus an opaque `cursor` naming the last key
//! of the previous page. A deep page costs what the first page costs
//! because the store seeks to the key instead of counting an offset.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::DomainError;

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    /// The decoded key of the last item already seen.
    pub after: Option<String>,
}

/// One page of results and the cursor of the next page, if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: usize = 100;
    pub const MAX_LIMIT: usize = 1000;

    /// Parses `limit` (1..=max, default 100 or `max` if smaller) and `cursor`
    /// as they came in the query string.
    pub fn parse(
        limit: Option<&str>,
        cursor: Option<&str>,
        max: usize,
    ) -> Result<Self, DomainError> {
        let limit = match limit {
            None => Self::DEFAULT_LIMIT.min(max),
            Some(raw) => {
                let n: usize = raw.trim().parse().map_err(|_| {
                    DomainError::invalid("limit", format!("must be a whole number from 1 to {max}"))
                })?;
                if n == 0 || n > max {
                    return Err(DomainError::invalid(
                        "limit",
                        format!("must be from 1 to {max}"),
                    ));
                }
                n
            }
        };
        let after = match cursor {
            None | Some("") => None,
            Some(raw) => Some(decode_cursor(raw)?),
        };
        Ok(Self { limit, after })
    }

    /// The first page with the default limit.
    pub fn first() -> Self {
        Self {
            limit: Self::DEFAULT_LIMIT,
            after: None,
        }
    }

    /// The cursor's key parsed as an id type.
    pub fn after_id<I>(
        &self,
        parse: impl Fn(&str) -> Result<I, DomainError>,
    ) -> Result<Option<I>, DomainError> {
        self.after
            .as_deref()
            .map(|key| parse(key).map_err(|_| invalid_cursor()))
            .transpose()
    }

    /// How many rows to ask the store for: one more than the page, to know
    /// whether another page follows.
    pub fn fetch_limit(&self) -> usize {
        self.limit + 1
    }

    /// Cuts fetched rows to the page and builds the next cursor from the
    /// last kept item's key.
    pub fn page<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> Page<T> {
        let next_cursor = if rows.len() > self.limit {
            rows.truncate(self.limit);
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

fn invalid_cursor() -> DomainError {
    DomainError::invalid("cursor", "is not a cursor this server issued")
}

const CURSOR_PREFIX: &str = "k1:";

/// Encodes a key as an opaque cursor.
pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{key}"))
}

/// Decodes a cursor back into its key.
pub fn decode_cursor(raw: &str) -> Result<String, DomainError> {
    if raw.len() > 200 {
        return Err(invalid_cursor());
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(raw.trim())
        .map_err(|_| invalid_cursor())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid_cursor())?;
    text.strip_prefix(CURSOR_PREFIX)
        .map(str::to_string)
        .ok_or_else(invalid_cursor)
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// A 1-based page number and a page size, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumber {
    pub page: usize,
    pub limit: usize,
}

impl PageNumber {
    pub const MAX_LIMIT: usize = 100;
    /// Pages after this one are empty for any org (a hundred million
    /// members), so they are answered without a query.
    pub const LAST_QUERIED_PAGE: usize = 1_000_000;

    /// Parses `page` (≥ 1, default 1) and `limit` (1..=100, default 10).
    /// Any whole page number is valid (the spec sets no maximum): one past
    /// the data is an empty page, even one too large for a machine word.
    pub fn parse(page: Option<&str>, limit: Option<&str>) -> Result<Self, DomainError> {
        let number = |field: &'static str,
                      raw: Option<&str>,
                      default: usize,
                      max: usize|
         -> Result<usize, DomainError> {
            let Some(raw) = raw else { return Ok(default) };
            match raw.trim().parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(DomainError::invalid(
                    field,
                    format!("must be a whole number from 1 to {max}"),
                )),
            }
        };
        Ok(Self {
            page: match page.map(str::trim) {
                None => 1,
                Some(raw) => match raw.parse::<usize>() {
                    Ok(n) if n >= 1 => n,
                    // Digits beyond a machine word: a page past the end.
                    Err(_) if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) => {
                        usize::MAX
                    }
                    _ => {
                        return Err(DomainError::invalid(
                            "page",
                            "must be a whole number from 1",
                        ))
                    }
                },
            },
            limit: number("limit", limit, 10, Self::MAX_LIMIT)?,
        })
    }

    pub fn offset(&self) -> usize {
        (self.page - 1).saturating_mul(self.limit)
    }

    /// Whether the page lies past any org's data.
    pub fn is_past_any_data(&self) -> bool {
        self.page > Self::LAST_QUERIED_PAGE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(PageRequest::parse(None, None, 1000).unwrap().limit, 100);
        assert_eq!(PageRequest::parse(None, None, 50).unwrap().limit, 50);
        assert_eq!(
            PageRequest::parse(Some("1000"), None, 1000).unwrap().limit,
            1000
        );
        for bad in ["0", "1001", "-1", "ten", "1.5", ""] {
            assert!(
                PageRequest::parse(Some(bad), None, 1000).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let cursor = encode_cursor("0193-abc");
        assert_eq!(decode_cursor(&cursor).unwrap(), "0193-abc");
        assert!(PageRequest::parse(None, Some("!!!"), 1000).is_err());
        assert!(PageRequest::parse(None, Some(&URL_SAFE_NO_PAD.encode("x")), 1000).is_err());
    }

    #[test]
    fn a_page_has_a_next_cursor_only_when_more_rows_exist() {
        let request = PageRequest::parse(Some("2"), None, 1000).unwrap();
        let page = request.page(vec![1, 2, 3], |n| n.to_string());
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(
            decode_cursor(page.next_cursor.as_deref().unwrap()).unwrap(),
            "2"
        );
        let last = request.page(vec![1, 2], |n| n.to_string());
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn page_numbers_default_and_are_bounded() {
        assert_eq!(
            PageNumber::parse(None, None).unwrap(),
            PageNumber { page: 1, limit: 10 }
        );
        assert_eq!(
            PageNumber::parse(Some("3"), Some("100")).unwrap().offset(),
            200
        );
        for (page, limit) in [
            (Some("0"), None),
            (None, Some("101")),
            (None, Some("0")),
            (Some("x"), None),
        ] {
            assert!(PageNumber::parse(page, limit).is_err());
        }
    }

    #[test]
    fn any_whole_page_number_is_valid_and_far_pages_are_past_the_data() {
        let far = PageNumber::parse(Some("1000001"), None).unwrap();
        assert!(far.is_past_any_data());
        let huge = PageNumber::parse(Some("99999999999999999999999999"), None).unwrap();
        assert!(huge.is_past_any_data());
        assert!(!PageNumber::parse(Some("1000000"), None)
            .unwrap()
            .is_past_any_data());
        assert!(PageNumber::parse(Some("-5"), None).is_err());
    }
}
