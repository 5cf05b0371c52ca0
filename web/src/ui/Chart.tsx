import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { EChartsCoreOption } from 'echarts/core';
import type EchartsModule from '../charts/echarts';

type Echarts = typeof EchartsModule;
let loading: Promise<Echarts> | null = null;
const loadEcharts = () => (loading ??= import('../charts/echarts').then((m) => m.default));

/**
 * An ECharts chart in the console's language (ECharts' own ZH/EN locales). Tooltips are drawn
 * on the canvas (richText), so no inline styles are needed under the Content Security Policy.
 */
export function Chart({ option, height = 280, label }: { option: EChartsCoreOption; height?: number; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const { i18n } = useTranslation();
  const lang = i18n.language === 'en' ? 'EN' : 'ZH';

  useEffect(() => {
    let disposed = false;
    let chart: ReturnType<Echarts['init']> | null = null;
    let observer: ResizeObserver | null = null;
    void loadEcharts().then((echarts) => {
      if (disposed || !ref.current) return;
      chart = echarts.init(ref.current, null, { locale: lang, renderer: 'canvas' });
      chart.setOption({ animation: false, textStyle: { fontFamily: 'inherit' }, ...option, tooltip: { renderMode: 'richText', ...(option.tooltip as object | undefined) } });
      ref.current.dataset.rendered = 'true';
      observer = new ResizeObserver(() => chart?.resize());
      observer.observe(ref.current);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      chart?.dispose();
    };
  }, [option, lang]);

  return <div ref={ref} className="chart" style={{ height }} role="img" aria-label={label} data-testid="chart" />;
}
