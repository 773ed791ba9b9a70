// Starts Swagger UI on /docs. A file rather than an inline script, so the
// page keeps working under a Content-Security-Policy without 'unsafe-inline'.
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    // The default validator badge calls validator.swagger.io: nothing leaves this host.
    validatorUrl: null,
    // Only our own document: no ?url= / ?configUrl= from the address bar.
    queryConfigEnabled: false,
    layout: "BaseLayout",
  });
})();
