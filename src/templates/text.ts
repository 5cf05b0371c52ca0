import { compile } from 'html-to-text';

/**
 * HTML to plain text for generated text parts. No word wrapping: the MIME encoder already
 * keeps lines short, wrapping at spaces is wrong for Chinese, and wrapping could split a Liquid
 * tag when the converter runs over a template (see render.ts). Headings and table headers keep
 * their case for the same reason.
 */
export const htmlToText = compile({
  wordwrap: false,
  selectors: [
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['<', '>'] } },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
  ],
});
