//! `/api/docs`: the OpenAPI document made readable by Swagger UI, whose files come from npm
//! (`swagger-ui-dist`, copied into /vendor by scripts/vendor-assets.sh) and are served by this
//! host — no CDN. The start-up script is a file too (the page's CSP allows only our scripts).

use axum::{
    http::header,
    response::{Html, IntoResponse},
};

pub async fn page() -> Html<&'static str> {
    Html(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Maverick API v1</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
<main id="swagger-ui"><noscript>The API reference needs JavaScript; the document itself is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</noscript></main>
<script src="/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/api/docs/start.js"></script>
</body>
</html>
"#,
    )
}

pub async fn start_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")],
        "window.ui = SwaggerUIBundle({ url: '/api/v1/openapi.json', dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: false });\n",
    )
}
