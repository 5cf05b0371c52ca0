import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * A rendered e-mail in a sandboxed frame with an opaque origin: its HTML arrives by message,
 * and the frame's own policy lets its styles apply while no script of the e-mail runs.
 */
export function PreviewFrame({ html, width }: { html: string; width: number }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLIFrameElement>(null);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    const onMessage = (e: MessageEvent) => {
      if (e.source === ref.current?.contentWindow && (e.data as { type?: string })?.type === 'fanout-preview-ready') setReady(true);
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, []);
  useEffect(() => {
    if (ready) ref.current?.contentWindow?.postMessage({ type: 'fanout-preview', html }, '*');
  }, [ready, html]);
  return (
    <div className="preview-stage">
      <iframe ref={ref} title={t('templates.preview')} src="/static/preview.html" sandbox="allow-scripts" className="preview-frame" style={{ width }} />
    </div>
  );
}
