/** The campaigns capability's surface: what the other capabilities may use. */
export { CampaignRunner } from './runner.ts';
