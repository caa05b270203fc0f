//! The emails Roster sends, composed as text and HTML. Every user-supplied
//! string (org name, inviter, personal message) is escaped in the HTML part.
//! Delivery is not here: emails go to the outbox, and a worker sends them.

use crate::ids::{InvitationId, OutboxEmailId};
use crate::model::OutboxEmail;
use crate::role::OrgRole;
use crate::time::Timestamp;

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.5\">{body}</body></html>",
        html_escape(title)
    )
}

fn queued(
    to: &str,
    subject: String,
    text_body: String,
    html_body: String,
    invitation: Option<InvitationId>,
) -> OutboxEmail {
    let now = Timestamp::now();
    OutboxEmail {
        id: OutboxEmailId::new(),
        to: to.to_string(),
        subject,
        text_body,
        html_body,
        invitation_id: invitation,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        created_at: now,
        sent_at: None,
    }
}

/// What an invitation email says.
pub struct InvitationEmail<'a> {
    pub to: &'a str,
    pub org_name: &'a str,
    pub inviter: &'a str,
    pub role: OrgRole,
    pub message: &'a str,
    pub accept_url: &'a str,
    pub expires_at: Timestamp,
    pub invitation: InvitationId,
}

/// The invitation email: the link carries the token.
pub fn invitation_email(email: &InvitationEmail<'_>) -> OutboxEmail {
    let subject = format!(
        "{} invited you to {} on Roster",
        email.inviter, email.org_name
    );
    let mut text = format!(
        "{} invited you to join the organization \"{}\" as {}.\n\n",
        email.inviter, email.org_name, email.role
    );
    if !email.message.is_empty() {
        text.push_str(&format!("Their message:\n\n{}\n\n", email.message));
    }
    text.push_str(&format!(
        "Accept the invitation here (sign up first if you have no account):\n{}\n\n\
         The invitation expires at {}. If you did not expect it, ignore this email.\n",
        email.accept_url,
        email.expires_at.to_rfc3339()
    ));
    let message_html = if email.message.is_empty() {
        String::new()
    } else {
        format!(
            "<blockquote style=\"white-space:pre-wrap\">{}</blockquote>",
            html_escape(email.message)
        )
    };
    let html = page(
        &subject,
        &format!(
            "<p><strong>{}</strong> invited you to join the organization <strong>{}</strong> as {}.</p>{message_html}\
             <p><a href=\"{}\">Accept the invitation</a> (sign up first if you have no account).</p>\
             <p style=\"color:#555\">The invitation expires at {}. If you did not expect it, ignore this email.</p>",
            html_escape(email.inviter),
            html_escape(email.org_name),
            email.role,
            html_escape(email.accept_url),
            email.expires_at.to_rfc3339()
        ),
    );
    queued(email.to, subject, text, html, Some(email.invitation))
}

/// What the email to a person added to an org without an invitation says.
pub struct MemberAddedEmail<'a> {
    pub to: &'a str,
    pub org_name: &'a str,
    pub adder: &'a str,
    pub role: OrgRole,
    /// The console page that lets the person leave the org.
    pub leave_url: &'a str,
}

/// The notice to a person added to an org at once (the seed APIs' "add a
/// registered user"): who added them, where, and how to leave again,
/// including what to do if they are, or become, its last owner.
pub fn member_added_email(email: &MemberAddedEmail<'_>) -> OutboxEmail {
    let subject = format!("{} added you to {} on Roster", email.adder, email.org_name);
    let text = format!(
        "{} added you to the organization \"{}\" as {}.\n\n\
         If you do not want to be a member, leave it here:\n{}\n\n\
         Should you ever be its only owner, Roster cannot let you leave an \
         organization without an owner: transfer ownership to another member \
         or delete the organization instead (both on the organization's page).\n",
        email.adder, email.org_name, email.role, email.leave_url
    );
    let html = page(
        &subject,
        &format!(
            "<p><strong>{}</strong> added you to the organization <strong>{}</strong> as {}.</p>\
             <p>If you do not want to be a member, <a href=\"{}\">leave the organization</a>.</p>\
             <p style=\"color:#555\">Should you ever be its only owner, Roster cannot let you \
             leave an organization without an owner: transfer ownership to another member or \
             delete the organization instead (both on the organization's page).</p>",
            html_escape(email.adder),
            html_escape(email.org_name),
            email.role,
            html_escape(email.leave_url)
        ),
    );
    queued(email.to, subject, text, html, None)
}

/// `{public_url}/console/orgs/{org}/leave`: the console's leave page.
pub fn leave_link(public_url: &str, org: &str) -> String {
    format!(
        "{}/console/orgs/{org}/leave",
        public_url.trim_end_matches('/')
    )
}

/// The email-verification email.
pub fn verification_email(to: &str, verify_url: &str) -> OutboxEmail {
    let subject = "Verify your email address for Roster".to_string();
    let text = format!(
        "Confirm that {to} is your email address by opening this link:\n{verify_url}\n\n\
         If you did not sign up for Roster, ignore this email.\n"
    );
    let html = page(
        &subject,
        &format!(
            "<p>Confirm that <strong>{}</strong> is your email address:</p>\
             <p><a href=\"{}\">Verify my email address</a></p>\
             <p style=\"color:#555\">If you did not sign up for Roster, ignore this email.</p>",
            html_escape(to),
            html_escape(verify_url)
        ),
    );
    queued(to, subject, text, html, None)
}

/// `{public_url}/console/{page}?token={token}`.
pub fn link(public_url: &str, page: &str, token: &str) -> String {
    format!(
        "{}/console/{page}?token={token}",
        public_url.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_special_characters_are_escaped() {
        assert_eq!(
            html_escape("<b>\"Tom\" & 'Jerry'</b>"),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn invitation_emails_escape_user_text_in_html_and_carry_the_link() {
        let email = invitation_email(&InvitationEmail {
            to: "new@example.com",
            org_name: "<script>alert(1)</script>",
            inviter: "Mallory & Co",
            role: OrgRole::Member,
            message: "<img src=x onerror=alert(1)>",
            accept_url: "http://localhost:8080/console/accept-invite?token=inv_abc",
            expires_at: Timestamp(0),
            invitation: InvitationId::new(),
        });
        assert!(!email.html_body.contains("<script>"));
        assert!(!email.html_body.contains("<img"));
        assert!(email.html_body.contains("&lt;script&gt;"));
        assert!(email
            .text_body
            .contains("http://localhost:8080/console/accept-invite?token=inv_abc"));
        assert!(
            email.text_body.contains("<img src=x onerror=alert(1)>"),
            "the text part is plain text"
        );
    }

    #[test]
    fn member_added_emails_name_the_org_and_the_adder_and_link_to_leaving() {
        let email = member_added_email(&MemberAddedEmail {
            to: "bob@example.com",
            org_name: "<Acme>",
            adder: "Alice (alice@example.com)",
            role: OrgRole::Admin,
            leave_url: &leave_link("http://x:1/", "0190"),
        });
        assert!(email
            .subject
            .contains("Alice (alice@example.com) added you to <Acme>"));
        assert!(email
            .text_body
            .contains("http://x:1/console/orgs/0190/leave"));
        assert!(email.text_body.contains("transfer ownership"));
        assert!(email.text_body.contains("delete the organization"));
        assert!(email.html_body.contains("&lt;Acme&gt;"));
        assert!(email.invitation_id.is_none());
    }

    #[test]
    fn links_join_the_public_url_without_double_slashes() {
        assert_eq!(
            link("http://x:1/", "verify-email", "t"),
            "http://x:1/console/verify-email?token=t"
        );
    }
}
