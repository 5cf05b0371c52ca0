import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import i18next from 'eslint-plugin-i18next';

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'web/dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', AbortController: 'readonly', fetch: 'readonly', structuredClone: 'readonly', performance: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      // Capabilities add their tables to the store's Database by `interface Database extends XTables {}`.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  // The console: browser code, and every user-visible string must come from the catalogues
  // (web/src/i18n/*.json). Text in JSX and in the attributes people read (labels, titles,
  // placeholders, alt text) is refused when it is a literal.
  {
    files: ['web/src/**/*.{ts,tsx}'],
    languageOptions: {
      globals: {
        window: 'readonly', document: 'readonly', navigator: 'readonly', localStorage: 'readonly', XMLHttpRequest: 'readonly', FormData: 'readonly', URLSearchParams: 'readonly',
        ResizeObserver: 'readonly', MessageEvent: 'readonly', DOMParser: 'readonly', HTMLElement: 'readonly', Blob: 'readonly',
      },
    },
    plugins: { i18next },
    rules: {
      'i18next/no-literal-string': ['error', {
        mode: 'jsx-only',
        'jsx-attributes': { include: ['label', 'title', 'placeholder', 'alt', 'aria-label', 'hint', 'header', 'subtitle'] },
        words: { exclude: ['[0-9!-/:-@[-`{-~·—…←✓ ]+', 'MJML', 'HTML', 'Fanout'] },
        // Keys and identifiers passed to these are not shown to people.
        callees: { exclude: ['t', 'i18n(ext)?', '(session\\.)?can', 'fieldError', 'set[A-Z]\\w*', 'set', '\\w+\\.run', 'button', 'tile', 'visible', 'encodeURIComponent', 'withQuery', 'exportHref', 'includes', 'startsWith', 'endsWith', 'join', 'split', 'get', 'padStart', 'String'] },
      }],
    },
  },
  { files: ['web/public/**/*.js'], languageOptions: { globals: { window: 'readonly', document: 'readonly', DOMParser: 'readonly' } } },
);
