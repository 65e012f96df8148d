/* forum: embed the discussion of this page.
 *
 *   <div id="forum-discussion" data-url="..." data-title="..." data-author="..."
 *        data-theme="light|dark"></div>
 *   <script src="https://FORUM/embed.js" async></script>
 *
 * Inserts an iframe on FORUM/embed/discussion for this page's address (data-url, else the
 * page's <link rel="canonical">, else its address without the fragment) and sizes it to its
 * content: the iframe posts its height, and only messages from the forum's origin and from
 * that very iframe are read. The frame is sized by its attributes (no inline styles), so it
 * works under the host page's own CSP as long as that allows the forum in frame-src.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  var forum = new URL(script.src, window.location.href).origin;

  function pageUrl(div) {
    if (div.getAttribute("data-url")) {
      return new URL(div.getAttribute("data-url"), window.location.href).href;
    }
    var canonical = document.querySelector('link[rel="canonical"][href]');
    if (canonical) {
      return canonical.href;
    }
    return window.location.href.split("#")[0];
  }

  function theme(div) {
    var chosen = div.getAttribute("data-theme");
    if (chosen === "light" || chosen === "dark") {
      return chosen;
    }
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    return dark ? "dark" : "light";
  }

  function embed(div) {
    var params = new URLSearchParams();
    params.set("url", pageUrl(div));
    params.set("title", div.getAttribute("data-title") || document.title || "");
    if (div.getAttribute("data-author")) {
      params.set("author", div.getAttribute("data-author"));
    }
    params.set("theme", theme(div));
    params.set("origin", window.location.origin);

    var frame = document.createElement("iframe");
    frame.src = forum + "/embed/discussion?" + params.toString();
    frame.title = "Discussion";
    frame.setAttribute("loading", "lazy");
    frame.className = "forum-discussion-frame";
    // Presentational attributes, not style: nothing here depends on the host page's CSS
    // or on its CSP allowing inline styles.
    frame.setAttribute("width", "100%");
    frame.setAttribute("height", "240");
    frame.setAttribute("frameborder", "0");
    div.appendChild(frame);

    window.addEventListener("message", function (event) {
      if (event.origin !== forum || event.source !== frame.contentWindow) {
        return;
      }
      var data = event.data;
      if (data && data.type === "forum:height" && typeof data.height === "number") {
        var height = Math.max(0, Math.min(Math.ceil(data.height), 100000));
        frame.setAttribute("height", String(height));
      }
    });
  }

  function start() {
    var div = document.getElementById("forum-discussion");
    if (div && !div.querySelector("iframe.forum-discussion-frame")) {
      embed(div);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
