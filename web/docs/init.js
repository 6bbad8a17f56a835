// Starts Swagger UI on the OpenAPI document this server generates. Kept in a
// file of its own because the Content-Security-Policy forbids inline scripts.
globalThis.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#reference",
  deepLinking: true,
  tryItOutEnabled: true,
});
