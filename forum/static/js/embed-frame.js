/* forum: the iframe's side of an embedded discussion, and the login window's.
 *
 * In the iframe (html[data-parent-origin], one of FORUM_EMBED_ORIGINS, checked by the
 * server): post the page's height to the publisher's page whenever it changes, to that
 * origin only.
 *
 * Signing in with third-party cookies blocked: "Log in to comment" opens the login in a
 * window of the forum's own (where its cookie is first-party). That window lands on
 * /embed/done, which tells this frame and closes. The frame then reloads, first asking for
 * storage access on the reader's click where the browser wants it
 * (document.hasStorageAccess / requestStorageAccess); if it still doesn't know the reader,
 * it offers the discussion on the forum's own page instead.
 */
(function () {
  "use strict";

  var EXPECT_KEY = "forum:embed:expect-login";
  var CHANNEL = "forum-embed";

  /* --- the login window ---------------------------------------------------------------- */

  function finishLoginWindow(section) {
    if (section.getAttribute("data-embed-done") !== "signed-in") {
      return;
    }
    var message = { type: "forum:signed-in" };
    if (window.opener) {
      try {
        window.opener.postMessage(message, window.location.origin);
      } catch (e) {
        /* the opener went elsewhere */
      }
    }
    if (window.BroadcastChannel) {
      var channel = new BroadcastChannel(CHANNEL);
      channel.postMessage(message);
      channel.close();
    }
    if (window.opener) {
      window.setTimeout(function () {
        window.close();
      }, 300);
    }
  }

  /* --- the iframe -------------------------------------------------------------------- */

  function reportHeight(parentOrigin) {
    var last = -1;
    function send() {
      var height = document.documentElement.scrollHeight;
      if (height !== last) {
        last = height;
        window.parent.postMessage({ type: "forum:height", height: height }, parentOrigin);
      }
    }
    if (window.ResizeObserver) {
      new ResizeObserver(send).observe(document.body);
    } else {
      window.setInterval(send, 500);
    }
    window.addEventListener("load", send);
    send();
  }

  function show(box, selector) {
    var found = box.querySelector(selector);
    if (found) {
      found.hidden = false;
    }
  }

  function remember(value) {
    try {
      if (value) {
        window.sessionStorage.setItem(EXPECT_KEY, "1");
      } else {
        window.sessionStorage.removeItem(EXPECT_KEY);
      }
    } catch (e) {
      /* storage refused: the fallback link is then shown at once */
    }
  }

  function expected() {
    try {
      return window.sessionStorage.getItem(EXPECT_KEY) === "1";
    } catch (e) {
      return false;
    }
  }

  function reloadSignedIn() {
    remember(true);
    window.location.reload();
  }

  var signedIn = false;

  function afterSignIn(box) {
    if (signedIn) {
      return; // told by both the window and the channel
    }
    signedIn = true;
    if (!document.hasStorageAccess) {
      reloadSignedIn();
      return;
    }
    document.hasStorageAccess().then(
      function (has) {
        if (has) {
          reloadSignedIn();
        } else {
          show(box, "[data-storage-access]");
        }
      },
      function () {
        reloadSignedIn();
      }
    );
  }

  function enhanceLogin(box) {
    var button = box.querySelector("[data-embed-login-button]");
    var loginUrl = box.getAttribute("data-login-url");
    var loginWindow = null;

    if (expected()) {
      // Reloaded after a login, and still not signed in: this browser keeps the frame's
      // cookies apart. Storage access where it exists, else the forum's own page.
      remember(false);
      if (document.requestStorageAccess) {
        show(box, "[data-storage-access]");
      }
      show(box, "[data-embed-fallback]");
    }

    button.addEventListener("click", function (event) {
      event.preventDefault();
      loginWindow = window.open(loginUrl, "forum-login", "popup,width=520,height=680");
      if (!loginWindow) {
        show(box, "[data-embed-fallback]");
      }
    });

    window.addEventListener("message", function (event) {
      if (event.origin !== window.location.origin || !loginWindow || event.source !== loginWindow) {
        return;
      }
      if (event.data && event.data.type === "forum:signed-in") {
        afterSignIn(box);
      }
    });
    if (window.BroadcastChannel) {
      new BroadcastChannel(CHANNEL).addEventListener("message", function (event) {
        if (event.data && event.data.type === "forum:signed-in") {
          afterSignIn(box);
        }
      });
    }

    var access = box.querySelector("[data-storage-access-button]");
    if (access && document.requestStorageAccess) {
      access.addEventListener("click", function () {
        document.requestStorageAccess().then(reloadSignedIn, function () {
          show(box, "[data-embed-fallback]");
        });
      });
    }
  }

  function start() {
    var done = document.querySelector("[data-embed-done]");
    if (done) {
      finishLoginWindow(done);
      return;
    }
    var parentOrigin = document.documentElement.getAttribute("data-parent-origin");
    if (parentOrigin && window.parent !== window) {
      reportHeight(parentOrigin);
    }
    var box = document.querySelector("[data-embed-login]");
    if (box) {
      enhanceLogin(box);
    } else {
      remember(false);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
