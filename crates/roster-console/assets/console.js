// Roster console: small progressive enhancements. Every page works
// without this file; with it, forms show progress, destructive buttons
// ask first, and one-time secrets get a copy button.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  // Progress feedback: a submitted form's button is disabled and says so,
  // which also stops double submits.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var question = form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
        return;
      }
      var button = form.querySelector("button[type=submit]");
      if (button) {
        // Disable after the submit has been dispatched, so the button's
        // own name/value (if any) is still sent.
        window.setTimeout(function () {
          button.disabled = true;
          button.setAttribute("aria-busy", "true");
          button.dataset.label = button.textContent;
          button.textContent = "Working…";
        }, 0);
      }
    });
  });

  // Back/forward cache: a page restored after submitting must not keep
  // its buttons disabled.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[aria-busy=true]").forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      if (button.dataset.label) {
        button.textContent = button.dataset.label;
      }
    });
  });

  // Copy buttons: copy the text of the element named by data-copy.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) {
        return;
      }
      var text = source.textContent.trim();
      var done = function () {
        button.textContent = "Copied";
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () {
          selectText(source);
        });
      } else {
        selectText(source);
        try {
          if (document.execCommand("copy")) {
            done();
          }
        } catch (e) {
          // Selected: the user can copy by hand.
        }
      }
    });
  });

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
});
