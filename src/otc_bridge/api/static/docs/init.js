// Swagger UI on /docs, from a file (the page's Content-Security-Policy allows no inline
// script). No validator badge: it would send the document to another site.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
