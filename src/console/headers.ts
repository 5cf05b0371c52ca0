/**
 * Security headers of the console's pages. The console runs only its own bundled scripts and
 * style sheets: no inline script or style, nothing from another origin, and it cannot be framed.
 * React and ECharts set styles through the CSSOM, which style-src does not govern.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The template preview frame: it shows a rendered e-mail (whose layout depends on inline styles)
 * inside a sandbox with an opaque origin. Only its own script runs; the e-mail's scripts, event
 * handlers and remote resources do not.
 */
export const PREVIEW_FRAME_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join('; ');

export const COMMON_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
};
