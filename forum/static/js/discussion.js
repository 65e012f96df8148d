/* forum: progressive enhancement for discussions. No build step, no dependencies.
 *
 * Every page works without this file: the plain forms post and redirect as before. With it:
 *  - reply and edit forms open inline under the comment and post with fetch(); the server
 *    answers with the comment rendered by the page's own templates, inserted in place;
 *  - a live preview, rendered by the server's sanitizer (POST /comments/preview);
 *  - a character counter near the length limit (from the form's data-max-length);
 *  - drafts kept in localStorage until they are posted;
 *  - threads fold and unfold with a button that says how many replies it hides;
 *  - comments new since the reader's last visit are marked, with an "N new" jump link;
 *  - while the page is open, new comments are announced ("3 new comments · Show") and
 *    inserted in place on request, without a reload (the version is polled while visible);
 *  - "Show N more replies" of a long thread, and the report form, open in place.
 *
 * The CSP forbids inline scripts and styles: this file only adds elements, attributes and
 * classes (and the `hidden` attribute), never style attributes. User content is inserted
 * only as HTML the server produced with its sanitizer.
 */
(function () {
  "use strict";

  var STORE_PREFIX = "forum:";
  var PREVIEW_DELAY_MS = 450;
  var DRAFT_DELAY_MS = 300;
  var COUNTER_SHOW_AT = 0.8; // show the counter from 80 % of the limit

  var live = null; // the poller of new comments, once started

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }

  function $$(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "class") {
        node.className = attrs[name];
      } else {
        node.setAttribute(name, attrs[name]);
      }
    });
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function fromHTML(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  // --- words in the page's language -----------------------------------------------------
  // The page carries the script's strings in its language (forum/script_strings.py) as a
  // JSON data block; a string is looked up by its English text, which is also the fallback.
  var LANG = document.documentElement.lang || "en";
  var STRINGS = (function () {
    var block = document.getElementById("i18n-strings");
    try {
      return (block && JSON.parse(block.textContent)) || {};
    } catch (e) {
      return {};
    }
  })();
  var pluralRules = window.Intl && Intl.PluralRules ? new Intl.PluralRules(LANG) : null;

  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && name in values ? String(values[name]) : whole;
    });
  }

  // t("Posted.") or t("Something went wrong (error %(status)s).", {status: 500}).
  function t(english, values) {
    var found = STRINGS[english];
    return fill(typeof found === "string" ? found : english, values);
  }

  // tn(3, "%(count)s new comment", "%(count)s new comments"): ``count`` is filled in,
  // written the page's way; the form follows the language's plural rules.
  function tn(n, one, other, values) {
    var forms = STRINGS[one];
    var isOne = pluralRules ? pluralRules.select(n) === "one" : n === 1;
    var text = Array.isArray(forms) ? forms[isOne ? 0 : 1] : isOne ? one : other;
    var all = { count: formatNumber(n) };
    for (var name in values || {}) {
      all[name] = values[name];
    }
    return fill(text, all);
  }

  function formatNumber(n) {
    return n.toLocaleString(LANG);
  }

  // localStorage may be missing or full (private windows): features degrade quietly.
  var store = {
    get: function (key) {
      try {
        return window.localStorage.getItem(STORE_PREFIX + key);
      } catch (e) {
        return null;
      }
    },
    set: function (key, value) {
      try {
        window.localStorage.setItem(STORE_PREFIX + key, value);
      } catch (e) {
        /* not available: nothing is kept */
      }
    },
    remove: function (key) {
      try {
        window.localStorage.removeItem(STORE_PREFIX + key);
      } catch (e) {
        /* not available */
      }
    },
  };

  function debounce(fn, ms) {
    var timer = null;
    var wrapped = function () {
      var args = arguments;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        fn.apply(null, args);
      }, ms);
    };
    wrapped.cancel = function () {
      window.clearTimeout(timer);
    };
    return wrapped;
  }

  // --- announcements for screen readers -------------------------------------------------

  var announcer = null;

  function announce(message) {
    if (!announcer) {
      announcer = el("div", { class: "visually-hidden", role: "status", "aria-live": "polite" });
      document.body.appendChild(announcer);
    }
    announcer.textContent = "";
    // A fresh text node after a tick, so the same message twice is read twice.
    window.setTimeout(function () {
      announcer.textContent = message;
    }, 50);
  }

  // --- talking to the server ------------------------------------------------------------

  function isJSON(response) {
    return (response.headers.get("Content-Type") || "").indexOf("application/json") !== -1;
  }

  function postForm(url, data) {
    return window.fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-Requested-With": "fetch" },
    });
  }

  /* Messages from an error answer: {"errors": {"body": [...], "form": [...]}} from the
   * discussion views, or {"error": ..., "message": ...} from the site's error handler. */
  function errorsOf(data, status) {
    if (data && data.errors) {
      return data.errors;
    }
    if (data && (data.message || data.error)) {
      return { form: [data.message || data.error] };
    }
    return { form: [t("Something went wrong (error %(status)s). Your draft is kept.", { status: status })] };
  }

  function csrfToken(form) {
    var input = form.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  // --- comment forms: errors, counter, drafts, preview, posting --------------------------

  function describedBy(field, id, add) {
    var ids = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    ids = ids.filter(function (x) {
      return x !== id;
    });
    if (add) {
      ids.push(id);
    }
    if (ids.length) {
      field.setAttribute("aria-describedby", ids.join(" "));
    } else {
      field.removeAttribute("aria-describedby");
    }
  }

  function clearErrors(form, textarea) {
    $$(".js-error", form).forEach(function (node) {
      node.remove();
    });
    // Errors the server rendered into the page before the script took over.
    $$(".form-errors", form).forEach(function (node) {
      node.remove();
    });
    var old = form.querySelector("#" + textarea.id + "-error");
    if (old) {
      old.remove();
    }
    describedBy(textarea, textarea.id + "-error", false);
    textarea.removeAttribute("aria-invalid");
    var wrapper = textarea.closest(".field");
    if (wrapper) {
      wrapper.classList.remove("has-error");
    }
  }

  /* What an error answer adds besides its messages: a link to log in again (the session
   * ended; the draft stays in this browser), or a fresh CSRF token (the form had expired
   * while the reader stayed logged in: the next press sends it). */
  function applyErrorExtras(answer, errors) {
    if (answer && answer.csrf_token) {
      $$('input[name="csrf_token"]').forEach(function (input) {
        input.value = answer.csrf_token;
      });
    }
    if (answer && answer.login_url) {
      errors.loginUrl = answer.login_url;
    }
    return errors;
  }

  function showErrors(form, textarea, errors) {
    clearErrors(form, textarea);
    var loginUrl = errors.loginUrl;
    delete errors.loginUrl;
    var general = [];
    Object.keys(errors).forEach(function (name) {
      if (name !== "body") {
        general = general.concat(errors[name]);
      }
    });
    if (errors.body && errors.body.length) {
      var message = el(
        "p",
        { class: "error js-error", id: textarea.id + "-error" },
        errors.body.join(" ")
      );
      var wrapper = textarea.closest(".field") || textarea.parentNode;
      wrapper.classList.add("has-error");
      wrapper.appendChild(message);
      textarea.setAttribute("aria-invalid", "true");
      describedBy(textarea, textarea.id + "-error", true);
    }
    if (general.length) {
      var box = el("div", { class: "form-errors js-error", role: "alert" });
      general.forEach(function (text) {
        box.appendChild(el("p", { class: "error" }, text));
      });
      if (loginUrl) {
        // Logging in comes back to this page, where the draft is restored from this browser.
        var last = box.lastElementChild;
        last.appendChild(document.createTextNode(" "));
        last.appendChild(el("a", { href: loginUrl, class: "login-again" }, t("Log in")));
      }
      form.insertBefore(box, form.firstElementChild);
    }
    if (errors.body && errors.body.length) {
      announce(errors.body.join(" "));
    }
    textarea.focus();
  }

  function codePoints(text) {
    // What the server counts: code points, with Windows line ends made single newlines.
    return Array.from(text.replace(/\r\n?/g, "\n")).length;
  }

  function setUpCounter(form, textarea) {
    var max = parseInt(form.getAttribute("data-max-length"), 10);
    if (!max) {
      return function () {};
    }
    var counter = el("p", { class: "char-count", id: textarea.id + "-count", hidden: "" });
    var wrapper = textarea.closest(".field") || textarea.parentNode;
    var hint = wrapper.querySelector(".hint");
    wrapper.insertBefore(counter, hint ? hint.nextSibling : textarea.nextSibling);
    var lastBand = 0;

    function update() {
      var used = codePoints(textarea.value);
      var left = max - used;
      var show = used >= max * COUNTER_SHOW_AT;
      counter.hidden = !show;
      describedBy(textarea, counter.id, show);
      if (!show) {
        lastBand = 0;
        return;
      }
      counter.classList.toggle("over", left < 0);
      var n = Math.abs(left);
      counter.textContent =
        left >= 0
          ? tn(n, "%(count)s character left", "%(count)s characters left")
          : tn(
              n,
              "%(count)s character over the limit of %(max)s",
              "%(count)s characters over the limit of %(max)s",
              { max: formatNumber(max) }
            );
      // Speak only when a threshold is crossed, not on every key press.
      var band = left < 0 ? 3 : left <= max * 0.05 ? 2 : 1;
      if (band !== lastBand) {
        lastBand = band;
        announce(counter.textContent);
      }
    }
    textarea.addEventListener("input", update);
    update();
    return update;
  }

  // Drafts are the account's, never the browser's: keyed by the logged-in account's tag
  // (<body data-account>), removed when it logs out; anonymous readers have none.
  var DRAFT_PREFIX = "draft:";

  function draftAccount() {
    return document.body ? document.body.getAttribute("data-account") : null;
  }

  function draftKey(form) {
    var account = draftAccount();
    if (!account) {
      return null;
    }
    var url = new URL(form.getAttribute("action") || window.location.href, window.location.href);
    return DRAFT_PREFIX + account + ":" + url.pathname;
  }

  // Removes stored drafts whose key (after the prefix) passes ``matches``.
  function forgetDrafts(matches) {
    try {
      var storage = window.localStorage;
      var doomed = [];
      for (var i = 0; i < storage.length; i += 1) {
        var name = storage.key(i);
        var prefix = STORE_PREFIX + DRAFT_PREFIX;
        if (name && name.indexOf(prefix) === 0 && matches(name.slice(prefix.length))) {
          doomed.push(name);
        }
      }
      doomed.forEach(function (name) {
        storage.removeItem(name);
      });
    } catch (e) {
      /* not available: nothing was kept */
    }
  }

  function setUpDraftCleanup() {
    // Drafts of an earlier version were keyed by page only ("draft:/path"): anyone's.
    forgetDrafts(function (rest) {
      return rest.charAt(0) === "/";
    });
    var account = draftAccount();
    if (!account) {
      return;
    }
    $$("form[data-logout]").forEach(function (form) {
      form.addEventListener("submit", function () {
        forgetDrafts(function (rest) {
          return rest.indexOf(account + ":") === 0;
        });
      });
    });
  }

  /* A form sent as a plain page post keeps its draft until the server has acknowledged
   * it: the text sent is remembered for the next page (sessionStorage). If that page shows
   * the same form with the same text (an error, an ended session, a limit), nothing was
   * posted and the draft stays; otherwise the post went through and the draft goes. */
  var SENT_PREFIX = "forum:sent:";

  function rememberSent(key, text) {
    try {
      window.sessionStorage.setItem(SENT_PREFIX + key, text);
    } catch (e) {
      /* not available: the draft is simply kept */
    }
  }

  function settleSentDrafts() {
    if (!draftAccount()) {
      return; // a page for nobody in particular (the session ended): judge on the next one
    }
    var sent = [];
    try {
      for (var i = 0; i < window.sessionStorage.length; i += 1) {
        var name = window.sessionStorage.key(i);
        if (name && name.indexOf(SENT_PREFIX) === 0) {
          sent.push([name, name.slice(SENT_PREFIX.length), window.sessionStorage.getItem(name)]);
        }
      }
    } catch (e) {
      return;
    }
    var shown = {};
    $$("form.comment-form").forEach(function (form) {
      var key = draftKey(form);
      var textarea = form.querySelector('textarea[name="body"]');
      if (key && textarea) {
        shown[key] = textarea.value;
      }
    });
    sent.forEach(function (entry) {
      var key = entry[1];
      var text = entry[2];
      window.sessionStorage.removeItem(entry[0]);
      var backUnsent = Object.prototype.hasOwnProperty.call(shown, key) && shown[key] === text;
      if (!backUnsent && store.get(key) === text) {
        store.remove(key); // acknowledged: the comment (or the edit) is stored
      }
    });
  }

  function setUpDraft(form, textarea, options) {
    var key = draftKey(form);
    if (!key) {
      return { clear: function () {}, keepNow: function () {}, sending: function () {} };
    }
    var saved = store.get(key);
    var original = textarea.value;
    var save = debounce(function () {
      if (textarea.value.trim() && textarea.value !== original) {
        store.set(key, textarea.value);
      } else {
        store.remove(key);
      }
    }, DRAFT_DELAY_MS);
    textarea.addEventListener("input", save);

    // A draft the server sent back (after an error) wins over the stored one; an edit
    // form always starts from the saved text, so a stored draft of it is offered back.
    var restorable = saved && saved !== textarea.value && (options.isEdit || !textarea.value.trim());
    if (restorable) {
      textarea.value = saved;
      var note = el("p", { class: "draft-note hint" }, t("Your unsent draft is restored.") + " ");
      var discard = el("button", { type: "button", class: "link-button" }, t("Discard draft"));
      discard.addEventListener("click", function () {
        textarea.value = original;
        store.remove(key);
        note.remove();
        textarea.dispatchEvent(new Event("input"));
        textarea.focus();
      });
      note.appendChild(discard);
      var wrapper = textarea.closest(".field") || textarea.parentNode;
      wrapper.appendChild(note);
    }
    return {
      clear: function () {
        save.cancel();
        store.remove(key);
        var note = form.querySelector(".draft-note");
        if (note) {
          note.remove();
        }
      },
      // Saved now, whatever the debounce was waiting for: the answer may be "log in".
      keepNow: function () {
        save.cancel();
        if (textarea.value.trim()) {
          store.set(key, textarea.value);
        }
      },
      // A plain page post: the draft is saved now and kept until the answer shows it went.
      sending: function () {
        save.cancel();
        if (textarea.value.trim()) {
          store.set(key, textarea.value);
          rememberSent(key, textarea.value);
        }
      },
    };
  }

  function setUpPreview(form, textarea) {
    var url = form.getAttribute("data-preview-url");
    if (!url) {
      return { refresh: function () {}, reset: function () {} };
    }
    // The server-rendered preview of the no-script path, if any, is replaced by the live one.
    $$(".preview", form).forEach(function (node) {
      node.remove();
    });
    var box = el("div", { class: "preview live-preview", hidden: "" });
    box.appendChild(el("p", { class: "preview-label" }, t("Preview")));
    var body = el("div", { class: "prose comment-body" });
    box.appendChild(body);
    var actions = form.querySelector(".form-actions");
    form.insertBefore(box, actions);
    var sent = null;
    var counter = 0;

    function refresh() {
      var text = textarea.value;
      if (!text.trim()) {
        box.hidden = true;
        body.textContent = "";
        sent = null;
        return;
      }
      if (text === sent) {
        box.hidden = false;
        return;
      }
      sent = text;
      var mine = ++counter;
      var data = new FormData();
      data.append("csrf_token", csrfToken(form));
      data.append("body", text);
      box.setAttribute("aria-busy", "true");
      postForm(url, data)
        .then(function (response) {
          if (!isJSON(response)) {
            throw new Error("not JSON");
          }
          return response.json();
        })
        .then(function (answer) {
          if (mine !== counter) {
            return; // a newer request is on its way
          }
          box.hidden = false;
          if (answer.html !== undefined) {
            body.innerHTML = answer.html; // sanitized by the server
          } else {
            var errors = errorsOf(answer, 400);
            body.textContent = (errors.body || errors.form || []).join(" ");
          }
        })
        .catch(function () {
          if (mine === counter) {
            sent = null;
            box.hidden = true;
          }
        })
        .then(function () {
          box.removeAttribute("aria-busy");
        });
    }

    var later = debounce(refresh, PREVIEW_DELAY_MS);
    textarea.addEventListener("input", later);
    return {
      refresh: refresh,
      reset: function () {
        later.cancel();
        counter++;
        sent = null;
        box.hidden = true;
        body.textContent = "";
      },
    };
  }

  /* A comment form's idempotency key (made by the server with the form) names one comment:
   * a post retried after a lost answer is stored once. Once the server has acknowledged a
   * post, the form that stays on the page gets a new key for the next comment. */
  function renewIdempotencyKey(form) {
    var input = form.querySelector('input[name="idempotency_key"]');
    if (input && window.crypto && window.crypto.randomUUID) {
      input.value = window.crypto.randomUUID();
    } else if (input) {
      input.value = ""; // no key rather than a used one: the post is then simply not deduplicated
    }
  }

  /* Make a comment form post with fetch(). ``options.onPosted(answer)`` inserts the result;
   * ``options.isEdit`` marks an edit form. Returns nothing; the form keeps working. */
  function enhanceForm(form, options) {
    if (form.hasAttribute("data-enhanced")) {
      return;
    }
    form.setAttribute("data-enhanced", "");
    var textarea = form.querySelector('textarea[name="body"]');
    if (!textarea) {
      return;
    }
    var updateCounter = setUpCounter(form, textarea);
    var draft = setUpDraft(form, textarea, options);
    var preview = setUpPreview(form, textarea);
    updateCounter();
    if (textarea.value.trim()) {
      preview.refresh();
    }
    var busy = false;

    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.name === "preview") {
        // The preview is live; the button just brings it up to date at once.
        event.preventDefault();
        preview.refresh();
        return;
      }
      if (!options.onPosted || !window.fetch || !window.FormData) {
        draft.sending(); // a full-page post: kept until the next page shows it went
        return;
      }
      event.preventDefault();
      if (busy) {
        return;
      }
      busy = true;
      var buttons = $$("button", form);
      buttons.forEach(function (b) {
        b.disabled = true;
      });
      form.setAttribute("aria-busy", "true");
      draft.keepNow();
      var data = new FormData(form);
      data.set("submit", "1");
      postForm(form.action, data)
        .then(function (response) {
          if (!isJSON(response)) {
            // Something in between answered: let the plain form handle it, draft kept.
            draft.sending();
            HTMLFormElement.prototype.submit.call(form);
            return null;
          }
          return response.json().then(function (answer) {
            if (response.ok && answer.html) {
              // Only now, with the server's acknowledgement, does the draft go.
              renewIdempotencyKey(form);
              draft.clear();
              clearErrors(form, textarea);
              preview.reset();
              options.onPosted(answer);
              announce(answer.message || t("Posted."));
            } else {
              showErrors(form, textarea, applyErrorExtras(answer, errorsOf(answer, response.status)));
              if (response.status === 409 && answer.current) {
                showCurrentText(form, textarea, answer.current);
              }
            }
          });
        })
        .catch(function () {
          showErrors(form, textarea, {
            form: [t("The server could not be reached. Your draft is kept; try again.")],
          });
        })
        .then(function () {
          busy = false;
          buttons.forEach(function (b) {
            b.disabled = false;
          });
          form.removeAttribute("aria-busy");
        });
    });
  }

  /* Another tab saved this comment first: its text beside the reader's, and the form now
   * starts from that revision (saving again replaces it, deliberately). */
  function showCurrentText(form, textarea, current) {
    var revision = form.querySelector('input[name="revision"]');
    if (revision) {
      revision.value = current.revision;
    }
    var old = form.querySelector(".edit-conflict-current");
    if (old) {
      old.remove();
    }
    var box = el("section", { class: "edit-conflict-current js-error" });
    box.appendChild(el("h2", {}, t("The current text")));
    box.appendChild(el("pre", { class: "current-text" }, current.body));
    var wrapper = textarea.closest(".field") || textarea;
    wrapper.parentNode.insertBefore(box, wrapper.nextSibling);
  }

  // --- placing comments in the thread -----------------------------------------------------

  function levelOf(li) {
    var match = /\blevel-(\d+)\b/.exec(li.className);
    return match ? parseInt(match[1], 10) : 1;
  }

  function discussionSection() {
    return document.getElementById("discussion");
  }

  function pageOf(url) {
    var params = new URL(url, window.location.href).searchParams;
    return (params.get("page") || "1") + "|" + (params.get("sort") || "oldest");
  }

  function bumpCount(delta) {
    var heading = document.getElementById("discussion-heading");
    if (!heading) {
      return;
    }
    // data-count holds the number; the words are the page's own, in its language.
    var count = parseInt(heading.getAttribute("data-count"), 10);
    if (!isNaN(count)) {
      var n = count + delta;
      heading.setAttribute("data-count", String(n));
      heading.textContent = tn(n, "Discussion (%(shown)s comment)", "Discussion (%(shown)s comments)", {
        shown: formatNumber(n),
      });
    }
  }

  function focusComment(li) {
    var card = li.querySelector(".comment-card");
    li.classList.add("just-posted");
    card.setAttribute("tabindex", "-1");
    card.focus();
  }

  function enhanceComment(li) {
    $$(".action-reply, .action-edit", li).forEach(function (link) {
      if (link.closest("li.comment") === li && !link.hasAttribute("aria-expanded")) {
        // It now opens a form in place rather than going to another page.
        link.setAttribute("aria-expanded", "false");
        link.addEventListener("click", openInline);
      }
    });
    if (document.getElementById("report-form")) {
      $$(".action-report", li).forEach(function (link) {
        if (!link.hasAttribute("aria-expanded")) {
          link.setAttribute("aria-expanded", "false"); // opens the report form in place
        }
      });
    }
  }

  /* Whether a new thread belongs on this page of threads: the last page in the oldest
   * and top sorts (a new thread has no votes yet), the first when newest come first. */
  function newThreadsLandHere(section) {
    var newestFirst = /\bsort=newest\b/.test(window.location.search);
    return !$(newestFirst ? '.pager a[rel="prev"]' : '.pager a[rel="next"]', section);
  }

  /* Put ``li`` where ``answer`` ({parent_id, level, url}) belongs on this page: under its
   * parent, or in the list of threads. Returns false when its place is not on this page.
   * ``lastAfter`` (parent id -> li) keeps several flat replies to one parent in order. */
  function placeComment(li, answer, lastAfter) {
    var section = discussionSection();
    if (answer.parent_id) {
      var parent = document.getElementById("c" + answer.parent_id);
      if (!parent) {
        return false;
      }
      if (answer.level > levelOf(parent)) {
        var replies = parent.querySelector(":scope > ol.replies");
        if (!replies) {
          replies = el("ol", { class: "replies" });
          var more = parent.querySelector(":scope > .more-replies");
          parent.insertBefore(replies, more || null);
        }
        replies.appendChild(li);
      } else {
        // Shown flat at the deepest level, right after the comment it answers.
        var anchor = (lastAfter && lastAfter[answer.parent_id]) || parent;
        anchor.parentNode.insertBefore(li, anchor.nextSibling);
        if (lastAfter) {
          lastAfter[answer.parent_id] = li;
        }
      }
      return true;
    }
    if (answer.url ? pageOf(answer.url) !== pageOf(window.location.href) : !newThreadsLandHere(section)) {
      return false; // it belongs on another page of threads
    }
    var list = $("ol.threads", section);
    if (!list) {
      list = el("ol", { class: "threads", "aria-label": t("Comments") });
      var empty = $(".empty", section);
      var before = empty || $(".pager", section) || $(".join", section);
      var heading = document.getElementById("new-comment-heading");
      section.insertBefore(list, before || heading || null);
      if (empty) {
        empty.remove();
      }
    }
    var newestFirst = /\bsort=newest\b/.test(window.location.search);
    list.insertBefore(li, newestFirst ? list.firstElementChild : null);
    return true;
  }

  /* What every comment the script adds gets: relative times, inline forms, the count. */
  function settleComment(li) {
    relativeTimes(li);
    if (/\bis-text\b/.test(li.className)) {
      bumpCount(1);
    }
    enhanceComment(li);
  }

  function insertComment(answer) {
    var li = fromHTML(answer.html);
    if (!placeComment(li, answer)) {
      window.location.assign(answer.url);
      return null;
    }
    settleComment(li);
    refreshToggles();
    if (live) {
      live.check(); // learn the new version now, so one's own comment isn't "new"
    }
    return li;
  }

  // --- inline reply and edit forms ---------------------------------------------------------

  /* Give every id in ``root`` a suffix (and fix the references to it), so a form fetched
   * from the reply or edit page can sit beside the page's own form. */
  function uniquifyIds(root, suffix) {
    var map = {};
    $$("[id]", root).forEach(function (node) {
      map[node.id] = node.id + suffix;
      node.id = node.id + suffix;
    });
    ["for", "aria-describedby", "aria-labelledby", "aria-controls"].forEach(function (attr) {
      $$("[" + attr + "]", root).forEach(function (node) {
        var value = node.getAttribute(attr)
          .split(/\s+/)
          .map(function (id) {
            return map[id] || id;
          })
          .join(" ");
        node.setAttribute(attr, value);
      });
    });
  }

  function closeInline(panel, link, restoreFocus) {
    panel.remove();
    link.setAttribute("aria-expanded", "false");
    link.removeAttribute("aria-controls");
    if (restoreFocus) {
      link.focus();
    }
  }

  function openInline(event) {
    var link = event.currentTarget;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.button > 0) {
      return; // opening in a new tab: the plain page
    }
    event.preventDefault();
    var li = link.closest("li.comment");
    var isEdit = link.classList.contains("action-edit");
    var kind = isEdit ? "e" : "r";
    var panelId = "compose-" + kind + li.getAttribute("data-comment-id");
    var existing = document.getElementById(panelId);
    if (existing) {
      var field = existing.querySelector("textarea");
      if (field) {
        field.focus();
      }
      return;
    }
    // One form per comment at a time: an open reply closes when editing, and vice versa.
    $$(":scope > .inline-compose", li).forEach(function (panel) {
      var opener = li.querySelector('[aria-controls="' + panel.id + '"]');
      if (opener) {
        closeInline(panel, opener, false);
      } else {
        panel.remove();
      }
    });
    link.setAttribute("aria-busy", "true");
    window
      .fetch(link.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("plain page");
        }
        return response.text();
      })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var form = doc.querySelector("form.comment-form");
        if (!form) {
          throw new Error("no form");
        }
        var heading = doc.querySelector("h1");
        form = document.importNode(form, true);
        form.setAttribute("action", link.href);
        form.removeAttribute("aria-labelledby");
        form.setAttribute("aria-label", heading ? heading.textContent.trim() : link.textContent);
        $$(".preview", form).forEach(function (node) {
          node.remove();
        });
        uniquifyIds(form, "-" + kind + li.getAttribute("data-comment-id"));

        var panel = el("div", { class: "inline-compose", id: panelId });
        var cancel = el("button", { type: "button", class: "button secondary" }, t("Cancel"));
        cancel.addEventListener("click", function () {
          closeInline(panel, link, true);
        });
        var actions = form.querySelector(".form-actions");
        (actions || form).appendChild(cancel);
        panel.appendChild(form);
        var card = li.querySelector(":scope > .comment-card");
        li.insertBefore(panel, card.nextSibling);
        link.setAttribute("aria-expanded", "true");
        link.setAttribute("aria-controls", panelId);

        enhanceForm(form, {
          isEdit: isEdit,
          onPosted: function (answer) {
            closeInline(panel, link, false);
            if (isEdit) {
              var fresh = fromHTML(answer.html);
              var newCard = fresh.querySelector(".comment-card");
              li.replaceChild(newCard, li.querySelector(":scope > .comment-card"));
              relativeTimes(newCard);
              enhanceComment(li);
              focusComment(li);
            } else {
              var added = insertComment(answer);
              if (added) {
                focusComment(added);
              }
            }
          },
        });
        var textarea = form.querySelector("textarea");
        textarea.focus();
        textarea.setSelectionRange(textarea.value.length, textarea.value.length);
      })
      .catch(function () {
        window.location.assign(link.href);
      })
      .then(function () {
        link.removeAttribute("aria-busy");
      });
  }

  // --- folding threads ------------------------------------------------------------------

  function setToggle(button, replies, expanded) {
    var n = $$("li.comment", replies).length;
    replies.hidden = !expanded;
    button.setAttribute("aria-expanded", expanded ? "true" : "false");
    button.textContent = expanded
      ? tn(n, "Hide %(count)s reply", "Hide %(count)s replies")
      : tn(n, "Show %(count)s reply (folded)", "Show %(count)s replies (folded)");
  }

  function refreshToggles() {
    $$("li.comment").forEach(function (li) {
      var replies = li.querySelector(":scope > ol.replies");
      var button = li.querySelector(":scope > .thread-toggle");
      if (!replies) {
        if (button) {
          button.remove();
        }
        return;
      }
      if (!replies.id) {
        replies.id = "replies-" + li.getAttribute("data-comment-id");
      }
      if (!button) {
        button = el("button", {
          type: "button",
          class: "thread-toggle link-button",
          "aria-controls": replies.id,
        });
        button.addEventListener("click", function () {
          var open = button.getAttribute("aria-expanded") !== "true";
          setToggle(button, replies, open);
          announce(open ? t("Replies shown.") : t("Replies folded."));
        });
        li.insertBefore(button, replies);
      }
      setToggle(button, replies, !replies.hidden);
    });
  }

  /* Unfold every thread around ``target`` so a link to it lands on something visible. */
  function reveal(target) {
    var node = target && target.parentElement;
    while (node) {
      if (node.matches && node.matches("ol.replies") && node.hidden) {
        var owner = node.parentElement;
        var button = owner && owner.querySelector(":scope > .thread-toggle");
        if (button) {
          setToggle(button, node, true);
        } else {
          node.hidden = false;
        }
      }
      node = node.parentElement;
    }
  }

  function revealHash() {
    if (window.location.hash.length > 1) {
      var target = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
      if (target) {
        reveal(target);
      }
    }
  }

  // --- new since the last visit -------------------------------------------------------------

  function markNew(section) {
    var slug = section.getAttribute("data-article");
    var rendered = section.getAttribute("data-rendered");
    if (!slug || !rendered) {
      return;
    }
    var key = "last-visit:" + slug;
    var previous = store.get(key);
    store.set(key, rendered); // the server's clock, from this page
    if (!previous) {
      return; // a first visit: nothing is "new" yet
    }
    var since = Date.parse(previous);
    var fresh = $$("li.comment.is-text", section).filter(function (li) {
      // The reader's own comments are never "new" to them.
      return (
        !li.querySelector(":scope > .comment-card.is-mine") &&
        Date.parse(li.getAttribute("data-created")) > since
      );
    });
    if (!fresh.length) {
      return;
    }
    fresh.forEach(function (li) {
      li.classList.add("is-new");
      var meta = li.querySelector(":scope > .comment-card .comment-meta");
      if (meta) {
        meta.appendChild(el("span", { class: "badge badge-new" }, t("New")));
      }
    });
    var box = el("p", { class: "new-since" });
    var link = el("a", { href: "#" + fresh[0].id, class: "new-jump" });
    var index = 0;
    function label() {
      link.textContent =
        fresh.length > 1
          ? t("%(count)s new since your last visit — go to %(index)s of %(total)s", {
              count: formatNumber(fresh.length),
              index: formatNumber(index + 1),
              total: formatNumber(fresh.length),
            })
          : t("1 new since your last visit");
    }
    label();
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var target = fresh[index];
      reveal(target);
      window.location.hash = target.id; // scrolls there and highlights it (:target)
      var card = target.querySelector(".comment-card");
      card.setAttribute("tabindex", "-1");
      card.focus();
      index = (index + 1) % fresh.length;
      link.setAttribute("href", "#" + fresh[index].id);
      label();
    });
    box.appendChild(link);
    var heading = document.getElementById("discussion-heading");
    section.insertBefore(box, heading ? heading.nextSibling : section.firstChild);
  }

  // --- new comments while the page is open ---------------------------------------------------

  /* Poll the discussion's version (GET .../discussion/version, revalidated by its ETag: an
   * unchanged discussion costs the server one small query and a 304) every few seconds
   * while the tab is visible, and not at all while it is hidden (once more as soon as it is
   * visible again). When the version moved, fetch the comments newer than the newest on
   * the page and offer them: "3 new comments · Show". Show inserts them in place, keeping
   * what the reader is looking at where it is, and any open form with its draft. */
  function startLive(section) {
    var versionUrl = section.getAttribute("data-version-url");
    var newUrl = section.getAttribute("data-new-url");
    if (!versionUrl || !newUrl || !window.fetch || document.hidden === undefined) {
      return null;
    }
    var seconds = parseFloat(section.getAttribute("data-poll-seconds")) || 30;
    var known = section.getAttribute("data-version");
    // Every comment up to this id that the reader sees is on the page, or has no place on it.
    var after = $$("li.comment[data-comment-id]", section).reduce(function (most, li) {
      return Math.max(most, parseInt(li.getAttribute("data-comment-id"), 10) || 0);
    }, 0);
    // A long thread shows only its first replies: its later ones are not on the page but
    // not new either, unless written after the page was (the server's clock, both).
    var rendered = Date.parse(section.getAttribute("data-rendered")) || 0;
    var pending = [];
    var fetched = 0;
    var timer = null;
    var busy = false;
    var again = false;
    var title = document.title;

    var status = el("div", { class: "live-status", role: "status", "aria-live": "polite" });
    var heading = document.getElementById("discussion-heading");
    section.insertBefore(status, heading ? heading.nextSibling : section.firstChild);

    function getJSON(url) {
      return window
        .fetch(url, {
          cache: "no-cache", // revalidate: the browser sends If-None-Match itself
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        })
        .then(function (response) {
          if (!response.ok || !isJSON(response)) {
            throw new Error("status " + response.status);
          }
          return response.json();
        });
    }

    function createdAt(answer) {
      var match = /data-created="([^"]+)"/.exec(answer.html || "");
      return match ? Date.parse(match[1]) : Infinity;
    }

    function onPage(answer) {
      return !!document.getElementById("c" + answer.id);
    }

    function threadRoot(li) {
      var above = li.parentElement && li.parentElement.closest("li.comment");
      while (above) {
        li = above;
        above = li.parentElement && li.parentElement.closest("li.comment");
      }
      return li;
    }

    /* Whether a reply under ``parent`` (on the page) is news: not when its thread is cut
     * short here ("Show N more replies") and it was written before the page was. */
    function isNews(answer, parent) {
      var cut = threadRoot(parent).querySelector(":scope > .more-replies");
      return !cut || createdAt(answer) > rendered;
    }

    /* The answers that have a place on this page: a thread, or a reply whose parent is on
     * the page or comes earlier among the new ones (they arrive oldest first). */
    function placeable(answers) {
      var coming = {};
      return answers.filter(function (answer) {
        if (onPage(answer)) {
          return false;
        }
        var parent = answer.parent_id && document.getElementById("c" + answer.parent_id);
        var ok = answer.parent_id
          ? parent
            ? isNews(answer, parent)
            : !!coming[answer.parent_id]
          : newThreadsLandHere(section);
        if (ok) {
          coming[answer.id] = true;
        }
        return ok;
      });
    }

    var shownCount = 0;

    function render() {
      if (pending.length === shownCount) {
        return; // the same news: not announced again
      }
      shownCount = pending.length;
      status.textContent = "";
      document.title = pending.length ? "(" + pending.length + ") " + title : title;
      if (!pending.length) {
        return;
      }
      status.appendChild(
        document.createTextNode(tn(pending.length, "%(count)s new comment", "%(count)s new comments") + " · ")
      );
      var show = el("button", { type: "button", class: "link-button live-show" }, t("Show"));
      show.addEventListener("click", showPending);
      status.appendChild(show);
    }

    function fetchNew(version) {
      return getJSON(newUrl + "?after=" + after).then(function (answer) {
        var comments = answer.comments || [];
        fetched = comments.length;
        pending = placeable(comments);
        if (!pending.length && comments.length) {
          // Nothing to offer below this id (the reader's own, or elsewhere): move past it.
          after = Math.max(after, comments[comments.length - 1].id);
        }
        known = String(answer.version !== undefined ? answer.version : version);
        render();
      });
    }

    function check() {
      window.clearTimeout(timer);
      timer = null;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      relativeTimes(section); // "just now" grows older while the page is open
      getJSON(versionUrl)
        .then(function (state) {
          if (String(state.version) === known) {
            return null;
          }
          return fetchNew(state.version);
        })
        .catch(function () {
          /* offline or a hiccup: try again at the next tick */
        })
        .then(function () {
          busy = false;
          if (again) {
            again = false;
            check();
          } else {
            schedule();
          }
        });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = document.hidden ? null : window.setTimeout(check, seconds * 1000);
    }

    /* The first comment card in view, and where it is: kept there after inserting. */
    function viewAnchor() {
      var cards = $$("article.comment-card", section);
      for (var i = 0; i < cards.length; i++) {
        var top = cards[i].getBoundingClientRect().top;
        if (top >= 0) {
          return { node: cards[i], top: top };
        }
      }
      return null;
    }

    function showPending() {
      var answers = placeable(pending);
      var hadFocus = status.contains(document.activeElement);
      var anchor = viewAnchor();
      var lastAfter = {};
      var first = null;
      var full = fetched >= 100; // one answer holds at most 100
      answers.forEach(function (answer) {
        var li = fromHTML(answer.html);
        if (!placeComment(li, answer, lastAfter)) {
          return;
        }
        li.classList.add("is-new");
        var meta = li.querySelector(":scope > .comment-card .comment-meta");
        if (meta) {
          meta.appendChild(el("span", { class: "badge badge-new" }, t("New")));
        }
        settleComment(li);
        first = first || li;
      });
      pending.forEach(function (answer) {
        after = Math.max(after, answer.id);
      });
      refreshToggles();
      if (anchor) {
        // Comments inserted above what the reader looks at would push it down.
        window.scrollBy(0, anchor.node.getBoundingClientRect().top - anchor.top);
      }
      pending = [];
      render();
      announce(tn(answers.length, "%(count)s new comment shown.", "%(count)s new comments shown."));
      if (first && hadFocus) {
        // The Show button is gone: keep keyboard users in the same place on the page.
        var card = first.querySelector(".comment-card");
        card.setAttribute("tabindex", "-1");
        card.focus({ preventScroll: true });
      }
      if (full) {
        check(); // there may be more than one answer holds
      }
    }

    document.addEventListener("visibilitychange", function () {
      if (document.hidden) {
        window.clearTimeout(timer); // a hidden tab costs the server nothing
        timer = null;
      } else {
        check();
      }
    });
    schedule();
    return { check: check };
  }

  // --- "Show N more replies" in place --------------------------------------------------------

  function showMoreReplies(event) {
    var link = event.target.closest("a[data-more-replies]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.button > 0) {
      return;
    }
    event.preventDefault();
    if (link.getAttribute("aria-busy") === "true") {
      return;
    }
    var root = document.getElementById("c" + link.getAttribute("data-more-replies"));
    var holder = link.closest(".more-replies");
    if (!root || !holder || !window.fetch) {
      window.location.assign(link.href);
      return;
    }
    link.setAttribute("aria-busy", "true");
    window
      .fetch(link.href, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok || !isJSON(response)) {
          throw new Error("plain page");
        }
        return response.json();
      })
      .then(function (answer) {
        var template = document.createElement("template");
        template.innerHTML = answer.html || "";
        var replies = root.querySelector(":scope > ol.replies");
        if (!replies) {
          replies = el("ol", { class: "replies" });
          root.insertBefore(replies, holder);
        }
        var added = [];
        Array.prototype.slice.call(template.content.children).forEach(function (li) {
          if (li.matches("li.comment") && !document.getElementById(li.id)) {
            replies.appendChild(li);
            relativeTimes(li);
            enhanceComment(li);
            added.push(li);
          }
        });
        if (answer.next) {
          link.setAttribute("href", answer.next);
          link.textContent = t("Show more replies");
          link.removeAttribute("aria-busy");
        } else {
          holder.remove();
        }
        refreshToggles();
        announce(tn(added.length, "%(count)s more reply shown.", "%(count)s more replies shown."));
        if (added.length) {
          var card = added[0].querySelector(".comment-card");
          card.setAttribute("tabindex", "-1");
          card.focus();
        }
      })
      .catch(function () {
        window.location.assign(link.href);
      });
  }

  // --- the report form, in place -------------------------------------------------------------

  function setUpReports(section) {
    var form = document.getElementById("report-form");
    if (!form || !window.fetch || !window.FormData) {
      return;
    }
    var home = form.parentNode;
    var homeNext = form.nextSibling;
    var opener = null;

    function clearReportErrors() {
      $$(".js-error", form).forEach(function (node) {
        node.remove();
      });
    }

    function close(restoreFocus) {
      form.hidden = true;
      clearReportErrors();
      home.insertBefore(form, homeNext);
      if (opener) {
        opener.setAttribute("aria-expanded", "false");
        opener.removeAttribute("aria-controls");
        if (restoreFocus) {
          opener.focus();
        }
      }
      opener = null;
    }

    function open(link) {
      var card = link.closest("article.comment-card");
      if (!card) {
        return false;
      }
      if (opener) {
        close(false);
      }
      opener = link;
      form.reset();
      form.setAttribute("action", link.href.replace(/\/report(\?.*)?$/, "/flag"));
      card.appendChild(form);
      form.hidden = false;
      link.setAttribute("aria-expanded", "true");
      link.setAttribute("aria-controls", form.id);
      form.querySelector("select").focus();
      return true;
    }

    section.addEventListener("click", function (event) {
      var link = event.target.closest("a.action-report");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.button > 0) {
        return;
      }
      if (link === opener) {
        event.preventDefault();
        close(true);
      } else if (open(link)) {
        event.preventDefault();
      }
    });

    var cancel = form.querySelector("[data-report-cancel]");
    if (cancel) {
      cancel.addEventListener("click", function () {
        close(true);
      });
    }
    form.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        close(true);
      }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.getAttribute("aria-busy") === "true") {
        return;
      }
      var link = opener;
      var card = form.closest("article.comment-card");
      form.setAttribute("aria-busy", "true");
      postForm(form.action, new FormData(form))
        .then(function (response) {
          if (!isJSON(response)) {
            throw new Error("not JSON");
          }
          return response.json().then(function (answer) {
            if (!response.ok) {
              var messages = applyErrorExtras(answer, errorsOf(answer, response.status));
              var loginUrl = messages.loginUrl;
              delete messages.loginUrl;
              var box = el("div", { class: "form-errors js-error", role: "alert" });
              Object.keys(messages).forEach(function (name) {
                messages[name].forEach(function (text) {
                  box.appendChild(el("p", { class: "error" }, text));
                });
              });
              if (loginUrl) {
                box.lastElementChild.appendChild(document.createTextNode(" "));
                box.lastElementChild.appendChild(
                  el("a", { href: loginUrl, class: "login-again" }, t("Log in"))
                );
              }
              clearReportErrors();
              form.insertBefore(box, form.firstElementChild);
              form.querySelector("select").focus();
              return;
            }
            close(false);
            var done = el("p", { class: "notice report-sent", role: "status" }, answer.message);
            card.appendChild(done);
            if (link) {
              // One report per reader per comment: the link becomes what the page shows
              // after a reload.
              link.parentNode.replaceChild(el("span", { class: "action-reported" }, t("Reported")), link);
            }
            done.setAttribute("tabindex", "-1");
            done.focus();
          });
        })
        .catch(function () {
          HTMLFormElement.prototype.submit.call(form); // let the plain form say what happened
        })
        .then(function () {
          form.removeAttribute("aria-busy");
        });
    });
  }

  // --- relative times -------------------------------------------------------------------------

  var TIME_UNITS = [
    [365 * 24 * 3600, "year"],
    [30 * 24 * 3600, "month"],
    [7 * 24 * 3600, "week"],
    [24 * 3600, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];

  // "3 hours ago" / "vor 3 Stunden": Intl words it for the page's language.
  var relativeFormat =
    window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(LANG, { numeric: "always" }) : null;

  function ago(n, unit) {
    if (relativeFormat) {
      return relativeFormat.format(-n, unit);
    }
    return n + " " + unit + (n === 1 ? "" : "s") + " ago";
  }

  function relativeTime(then, now) {
    var seconds = Math.floor((now - then) / 1000);
    if (seconds < 45) {
      return t("just now");
    }
    for (var i = 0; i < TIME_UNITS.length; i++) {
      if (seconds >= TIME_UNITS[i][0]) {
        return ago(Math.floor(seconds / TIME_UNITS[i][0]), TIME_UNITS[i][1]);
      }
    }
    return ago(1, "minute");
  }

  // The server writes fixed dates (its pages are cached for every reader); "3 hours ago" is
  // worked out here, with the exact time kept as the tooltip.
  function relativeTimes(root) {
    var now = Date.now();
    $$(".comment-time time[datetime]", root).forEach(function (node) {
      var then = Date.parse(node.getAttribute("datetime"));
      if (isNaN(then)) {
        return;
      }
      if (!node.hasAttribute("title")) {
        node.setAttribute("title", node.textContent + " UTC");
      }
      node.textContent = relativeTime(then, now);
    });
  }

  // --- start ------------------------------------------------------------------------------------

  function start() {
    setUpDraftCleanup();
    settleSentDrafts();
    var section = discussionSection();
    if (section) {
      refreshToggles();
      relativeTimes(section);
      $$("li.comment").forEach(enhanceComment);
      markNew(section);
      section.addEventListener("click", showMoreReplies);
      setUpReports(section);
      live = startLive(section);
      revealHash();
      window.addEventListener("hashchange", revealHash);
      var main = $("form.comment-form", section);
      if (main) {
        enhanceForm(main, {
          isEdit: false,
          onPosted: function (answer) {
            var textarea = main.querySelector("textarea");
            textarea.value = "";
            textarea.dispatchEvent(new Event("input"));
            var added = insertComment(answer);
            if (added) {
              focusComment(added);
            }
          },
        });
      }
    }
    // The reply and edit pages: counter, drafts and preview; they post as plain forms.
    $$("form.comment-form").forEach(function (form) {
      enhanceForm(form, { isEdit: /\/edit$/.test(form.getAttribute("action") || "") });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
