/* forum: comment counts on the publisher's own pages.
 *
 *   <a data-forum-count href="https://www.example.com/2014/test/">Comments</a>
 *   <script src="https://FORUM/embed/count.js" async></script>
 *
 * Asks FORUM/embed/counts once for every such link on the page (at most 100 addresses a
 * request) and writes "N comments" into each, in the page's language (its <html lang>; the
 * forum answers in the closest language it has, the words coming with the counts).
 */
(function () {
  "use strict";

  var BATCH = 100;
  var script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  var forum = new URL(script.src, window.location.href).origin;

  function fill(links) {
    var urls = [];
    links.forEach(function (link) {
      if (urls.indexOf(link.href) === -1) {
        urls.push(link.href);
      }
    });
    for (var start = 0; start < urls.length; start += BATCH) {
      ask(urls.slice(start, start + BATCH), links);
    }
  }

  function ask(urls, links) {
    var params = new URLSearchParams();
    urls.forEach(function (url) {
      params.append("url", url);
    });
    if (document.documentElement.lang) {
      params.append("lang", document.documentElement.lang);
    }
    fetch(forum + "/embed/counts?" + params.toString(), { credentials: "omit" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        if (!answer || !answer.labels) {
          return;
        }
        links.forEach(function (link) {
          var words = answer.labels[link.href];
          if (typeof words === "string") {
            link.textContent = words;
          }
        });
      })
      .catch(function () {
        /* the links keep their own text */
      });
  }

  function start() {
    var links = Array.prototype.slice.call(document.querySelectorAll("a[data-forum-count][href]"));
    if (links.length) {
      fill(links);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
