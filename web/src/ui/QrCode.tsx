import qrcode from 'qrcode-generator';

/** A QR code drawn as SVG in the page: the TOTP secret never leaves the browser for an image service. */
export function QrCode({ text, size = 200, label }: { text: string; size?: number; label: string }) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  const quiet = 4;
  const cells: string[] = [];
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.isDark(r, c)) cells.push(`M${c + quiet} ${r + quiet}h1v1h-1z`);
  const dim = n + quiet * 2;
  return (
    <svg className="qr" width={size} height={size} viewBox={`0 0 ${dim} ${dim}`} role="img" aria-label={label} shapeRendering="crispEdges">
      <rect width={dim} height={dim} fill="#fff" />
      <path d={cells.join('')} fill="#000" />
    </svg>
  );
}
