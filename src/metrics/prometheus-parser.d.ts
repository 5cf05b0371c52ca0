/** The test's Prometheus text parser ships no types. */
declare module 'parse-prometheus-text-format' {
  const parse: (text: string) => unknown[];
  export default parse;
}
