import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Chart } from './Chart';
import { formatNumber } from './format';

/** 购买 / 已发 / 剩余 as a gauge; an unlimited quota has no needle, only the count sent. */
export function QuotaGauge({ purchased, used }: { purchased: number | null; used: number }) {
  const { t } = useTranslation();
  const option = useMemo(() => {
    const max = purchased && purchased > 0 ? purchased : Math.max(used, 1);
    const ratio = purchased ? used / purchased : 0;
    const color = ratio >= 1 ? '#b3261e' : ratio >= 0.9 ? '#c48a1b' : '#2f7d4f';
    return {
      series: [{
        type: 'gauge', min: 0, max, startAngle: 210, endAngle: -30, radius: '95%', center: ['50%', '58%'],
        progress: { show: true, width: 14, itemStyle: { color } },
        axisLine: { lineStyle: { width: 14, color: [[1, '#e4e8ee']] } },
        axisTick: { show: false }, splitLine: { show: false }, axisLabel: { show: false }, pointer: { show: false },
        title: { show: true, offsetCenter: [0, '32%'], fontSize: 13, color: '#5b6573' },
        detail: { valueAnimation: false, offsetCenter: [0, '-4%'], fontSize: 28, fontWeight: 600, color: '#1d2530', formatter: () => (purchased ? `${Math.round(ratio * 100)}%` : formatNumber(used)) },
        data: [{ value: Math.min(used, max), name: purchased ? t('quota.used') : t('quota.unlimited') }],
      }],
    };
  }, [purchased, used, t]);
  return (
    <div className="gauge">
      <Chart option={option} height={180} label={t('quota.gaugeLabel', { used: formatNumber(used), purchased: purchased === null ? t('quota.unlimited') : formatNumber(purchased) })} />
      <dl className="gauge-legend">
        <div><dt>{t('quota.purchased')}</dt><dd>{purchased === null ? t('quota.unlimited') : formatNumber(purchased)}</dd></div>
        <div><dt>{t('quota.used')}</dt><dd>{formatNumber(used)}</dd></div>
        <div><dt>{t('quota.remaining')}</dt><dd>{purchased === null ? '—' : formatNumber(Math.max(purchased - used, 0))}</dd></div>
      </dl>
    </div>
  );
}

/** A thin bar for table rows. */
export function QuotaBar({ quota, used }: { quota: number | null; used: number }) {
  const { t } = useTranslation();
  if (quota === null) return <span className="muted">{t('quota.unlimited')}</span>;
  const ratio = quota > 0 ? Math.min(used / quota, 1) : 1;
  const level = ratio >= 1 ? 'bad' : ratio >= 0.9 ? 'warn' : 'ok';
  return (
    <div className={`quota-bar quota-${level}`} role="meter" aria-valuemin={0} aria-valuemax={quota} aria-valuenow={used} aria-label={t('quota.gaugeLabel', { used: formatNumber(used), purchased: formatNumber(quota) })}>
      <div style={{ width: `${Math.round(ratio * 100)}%` }} />
    </div>
  );
}
