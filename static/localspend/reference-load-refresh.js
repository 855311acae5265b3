// Admin "Load reference data" page: while a load is waiting or running the page
// includes this file, which looks again every 5 seconds, unless a file is being chosen.
// (A file rather than an inline script, so the Content Security Policy allows it.)
(function () {
  "use strict";

  setTimeout(function () {
    var file = document.querySelector("#reference-upload input[type=file]");
    if (!file || !file.value) {
      window.location.reload();
    }
  }, 5000);
})();
