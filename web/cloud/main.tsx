/**
 * The fleet dashboard: every site with its live status and firing alerts, a plot of where the
 * sites are (from the registry's coordinates, no map tiles), and the firing alerts. Reads the
 * operator routes with the session cookie the login page set; polls every 5 s. `#/site/<id>` is one
 * site's page: its devices with their latest values, its readings rate, its firing alerts and its
 * device events.
 */
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { deviceEventText } from '../shared/device-events.js';
import { formatBytes, formatNumber, formatTime } from '../shared/format.js';
import { type Lang, initialLang, rememberLang, translator } from '../shared/i18n.js';
import { LanguageSwitch } from '../shared/language-switch.js';
import { usePolling } from '../shared/poll.js';
import { useHashRoute } from '../shared/route.js';
import { type CloudKey, cloudMessages } from './messages.js';

const POLL_MS = 5_000;

type T = (key: CloudKey, values?: Record<string, string | number>) => string;

interface SiteView {
  id: string;
  name: string;
  enabled: boolean;
  timeZone: string;
  location?: { latitude: number; longitude: number };
  status: {
    online: boolean;
    lastSeenAt: string | null;
    lastBatchAt: string | null;
    backlog: number | null;
    oldestUnsentAt: string | null;
    readings: number;
    devices: { online: number; total: number; capped: boolean };
  };
}

interface DeviceView {
  deviceId: string;
  eoj: string;
  address: string;
  lastSeenAt: string;
  online: boolean;
  properties: Record<string, string | number | boolean | null>;
}

interface AlertView {
  id: string;
  rule: string;
  severity: 'info' | 'warning' | 'critical';
  summary: string;
  siteId: string;
  deviceId: string | null;
  startsAt: string;
  endsAt: string | null;
  silenced: boolean;
  site: { name: string; timeZone: string };
}

type SortKey = 'name' | 'state' | 'lastBatch' | 'backlog' | 'devices' | 'alerts';

function sortValue(site: SiteView, key: SortKey, firing: number): string | number {
  switch (key) {
    case 'name': return site.name.toLowerCase();
    case 'state': return site.status.online ? 1 : 0;
    case 'lastBatch': return site.status.lastBatchAt === null ? 0 : Date.parse(site.status.lastBatchAt);
    case 'backlog': return site.status.backlog ?? -1;
    // Most devices down first when descending.
    case 'devices': return site.status.devices.total - site.status.devices.online;
    case 'alerts': return firing;
  }
}

function SitesTable({ sites, firingBySite, t, lang }: { sites: SiteView[]; firingBySite: Map<string, number>; t: T; lang: Lang }) {
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'alerts', descending: true });
  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const kept = sites.filter((s) => needle === '' || s.name.toLowerCase().includes(needle) || s.id.toLowerCase().includes(needle));
    const sign = sort.descending ? -1 : 1;
    return kept.sort((a, b) => {
      const x = sortValue(a, sort.key, firingBySite.get(a.id) ?? 0);
      const y = sortValue(b, sort.key, firingBySite.get(b.id) ?? 0);
      return x < y ? -sign : x > y ? sign : a.name.localeCompare(b.name);
    });
  }, [sites, filter, sort, firingBySite]);
  const header = (key: SortKey, label: string) => (
    <th scope="col" aria-sort={sort.key === key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" class="sort" aria-label={t('sortBy', { column: label })} onClick={() => setSort({ key, descending: sort.key === key ? !sort.descending : true })}>
        {label}
        {sort.key === key ? (sort.descending ? ' ▼' : ' ▲') : ''}
      </button>
    </th>
  );
  return (
    <>
      <label class="filter">
        {t('filter')} <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} data-testid="filter" />
      </label>
      <div class="table-wrap">
        <table data-testid="sites">
          <thead>
            <tr>
              {header('name', t('site'))}
              {header('state', t('state'))}
              {header('lastBatch', t('lastBatch'))}
              {header('backlog', t('backlog'))}
              {header('devices', t('devicesOnline'))}
              {header('alerts', t('alerts'))}
              <th scope="col">{t('timeZone')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((site) => {
              const firing = firingBySite.get(site.id) ?? 0;
              const state = !site.enabled ? 'disabled' : site.status.online ? 'online' : 'offline';
              return (
                <tr key={site.id} data-site={site.id} data-state={state}>
                  <th scope="row">
                    <a href={`#/site/${encodeURIComponent(site.id)}`}>{site.name}</a>
                    <br />
                    <small>{site.id}</small>
                  </th>
                  <td>
                    <span class={`badge ${state === 'online' ? 'online' : 'offline'}`}>{t(state)}</span>
                  </td>
                  <td>{site.status.lastBatchAt === null ? t('never') : formatTime(lang, site.status.lastBatchAt, site.timeZone)}</td>
                  <td>
                    {site.status.backlog === null ? '—' : formatNumber(lang, site.status.backlog)}
                    {site.status.oldestUnsentAt !== null && (
                      <>
                        <br />
                        <small>{t('oldest', { time: formatTime(lang, site.status.oldestUnsentAt, site.timeZone) })}</small>
                      </>
                    )}
                  </td>
                  <td data-field="devices">
                    <DeviceCount counts={site.status.devices} t={t} lang={lang} />
                  </td>
                  <td data-field="firing">{firing === 0 ? '0' : <span class="badge firing">{firing}</span>}</td>
                  <td>{site.timeZone}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}

function DeviceCount({ counts, t, lang }: { counts: SiteView['status']['devices']; t: T; lang: Lang }) {
  const text = t('ofTotal', { online: formatNumber(lang, counts.online), total: formatNumber(lang, counts.total) });
  return (
    <>
      <span class={counts.online < counts.total ? 'badge offline' : undefined}>{text}</span>
      {counts.capped && (
        <>
          <br />
          <small>{t('capped')}</small>
        </>
      )}
    </>
  );
}

/** The sites on a plain longitude/latitude plane: red when offline or alerting. No map tiles, nothing fetched. */
function SiteMap({ sites, firingBySite, t }: { sites: SiteView[]; firingBySite: Map<string, number>; t: T }) {
  const placed = sites.filter((s) => s.location !== undefined);
  if (placed.length === 0) return <p>{t('noLocation')}</p>;
  const lons = placed.map((s) => s.location?.longitude ?? 0);
  const lats = placed.map((s) => s.location?.latitude ?? 0);
  const pad = 0.5;
  const [minX, maxX, minY, maxY] = [Math.min(...lons) - pad, Math.max(...lons) + pad, Math.min(...lats) - pad, Math.max(...lats) + pad];
  // Labels go right of the dots: keep the dots in the left three quarters.
  const x = (lon: number) => ((lon - minX) / (maxX - minX)) * 70 + 5;
  const y = (lat: number) => 100 - ((lat - minY) / (maxY - minY)) * 100;
  return (
    <svg class="map" viewBox="-5 -5 110 110" role="img" aria-label={t('map')}>
      <rect x="-5" y="-5" width="110" height="110" fill="#eef2f6" />
      {placed.map((site) => {
        const bad = !site.status.online || (firingBySite.get(site.id) ?? 0) > 0;
        return (
          <g key={site.id}>
            <title>{site.name}</title>
            <circle cx={x(site.location?.longitude ?? 0)} cy={y(site.location?.latitude ?? 0)} r="2.5" fill={bad ? '#b3261e' : '#1e7d32'} />
            <text x={x(site.location?.longitude ?? 0) + 3} y={y(site.location?.latitude ?? 0) + 1} font-size="4">{site.name}</text>
          </g>
        );
      })}
    </svg>
  );
}

/** Header the API wants on a change made with the session cookie (a cross-site form cannot set it). */
const CSRF_HEADER = 'x-echolake-request';
const SILENCE_MS = 3600_000;

async function silence(alert: AlertView, comment: string): Promise<string | undefined> {
  const body = {
    rule: alert.rule,
    siteId: alert.siteId,
    ...(alert.deviceId === null ? {} : { deviceId: alert.deviceId }),
    until: new Date(Date.now() + SILENCE_MS).toISOString(),
    comment,
  };
  const response = await fetch('api/v1/silences', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json', [CSRF_HEADER]: '1' },
    body: JSON.stringify(body),
  });
  if (response.ok) return undefined;
  const answer = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
  return answer?.error?.message ?? `${response.status}`;
}

function SilenceButton({ alert, t }: { alert: AlertView; t: T }) {
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  if (alert.silenced) return <small>{t('silenced')}</small>;
  const onClick = async (): Promise<void> => {
    setBusy(true);
    setError(await silence(alert, t('silenceComment')).catch((err: Error) => err.message));
    setBusy(false);
  };
  return (
    <>
      <button type="button" disabled={busy} aria-label={t('silenceLabel', { rule: alert.rule, site: alert.site.name })} onClick={() => void onClick()}>
        {t('silence')}
      </button>
      {error !== undefined && <p role="alert" class="error">{t('silenceFailed', { error })}</p>}
    </>
  );
}

function ResolvedAlerts({ alerts, t, lang }: { alerts: AlertView[]; t: T; lang: Lang }) {
  if (alerts.length === 0) return <p>{t('noResolved')}</p>;
  return (
    <div class="table-wrap">
      <table data-testid="resolved">
        <thead>
          <tr>
            <th scope="col">{t('summary')}</th>
            <th scope="col">{t('site')}</th>
            <th scope="col">{t('since')}</th>
            <th scope="col">{t('resolvedAt')}</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((alert) => (
            <tr key={alert.id}>
              <td>
                {alert.summary}
                <br />
                <small>{alert.rule}</small>
              </td>
              <td>{alert.site.name}</td>
              <td>{formatTime(lang, alert.startsAt, alert.site.timeZone)}</td>
              <td>{formatTime(lang, alert.endsAt, alert.site.timeZone)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function FiringAlerts({ alerts, t, lang }: { alerts: AlertView[]; t: T; lang: Lang }) {
  if (alerts.length === 0) return <p>{t('noFiring')}</p>;
  return (
    <div class="table-wrap">
      <table data-testid="alerts">
        <thead>
          <tr>
            <th scope="col">{t('severity')}</th>
            <th scope="col">{t('summary')}</th>
            <th scope="col">{t('site')}</th>
            <th scope="col">{t('device')}</th>
            <th scope="col">{t('since')}</th>
            <th scope="col">
              <span class="visually-hidden">{t('silence')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((alert) => (
            <tr key={alert.id} data-alert={alert.rule} data-site={alert.siteId} data-silenced={String(alert.silenced)}>
              <td>
                <span class={`badge ${alert.severity === 'info' ? 'unreachable' : 'firing'}`}>{alert.severity}</span>
              </td>
              <td>
                {alert.summary}
                <br />
                <small>{alert.rule}</small>
              </td>
              <td>{alert.site.name}</td>
              <td>
                <small>{alert.deviceId ?? '—'}</small>
              </td>
              <td>{formatTime(lang, alert.startsAt, alert.site.timeZone)}</td>
              <td>
                <SilenceButton alert={alert} t={t} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface Pipeline {
  at: string;
  ingest: { readings: number; batches: Record<string, number>; deadLetters: Record<string, number> } | null;
  alerts: { readings: number; late: number; duplicates: number; malformed: number } | null;
  lake: { tables: Record<string, { version: number; files: number; bytes: number }> } | null;
  lag: { at: string; groups: Array<{ role: string; groupId: string; topic: string; lag: number | null; partitions: number }>; error: string | null } | null;
}

function LagCard({ lag, t, lang }: { lag: Pipeline['lag']; t: T; lang: Lang }) {
  return (
    <section class={`card ${lag !== null && lag.error !== null ? 'bad' : 'ok'}`} aria-labelledby="lag-title">
      <h2 id="lag-title">{t('consumerLag')}</h2>
      {lag === null ? <p>{t('notHere')}</p> : (
        <ul class="plain" data-testid="lag">
          {lag.groups.map((group) => (
            <li key={group.groupId} data-role={group.role}>
              {group.role}: {group.lag === null ? t('notConsuming') : t('records', { n: formatNumber(lang, group.lag) })}
              <br />
              <small>{group.groupId}</small>
            </li>
          ))}
          {lag.error !== null && <li role="alert">{t('lagUnknown', { error: lag.error })}</li>}
        </ul>
      )}
    </section>
  );
}

function TablesCard({ lake, t, lang }: { lake: Pipeline['lake']; t: T; lang: Lang }) {
  return (
    <section class="card ok" aria-labelledby="tables-title">
      <h2 id="tables-title">{t('lakeTables')}</h2>
      {lake === null ? <p>{t('notHere')}</p> : (
        <ul class="plain" data-testid="tables">
          {Object.entries(lake.tables).map(([name, table]) => (
            <li key={name} data-table={name}>
              {t('tableLine', { name, version: table.version, size: formatBytes(lang, table.bytes), files: formatNumber(lang, table.files) })}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Counts({ counts, t, lang }: { counts: Record<string, number>; t: T; lang: Lang }) {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (entries.length === 0) return <>{t('none')}</>;
  return <>{entries.map(([name, n]) => `${name} ${formatNumber(lang, n)}`).join(', ')}</>;
}

/** Counters since start, and the rate between the last two answers. */
function PipelinePanel({ t, lang }: { t: T; lang: Lang }) {
  const now = usePolling<Pipeline>('api/v1/pipeline', POLL_MS);
  const [history, setHistory] = useState<Pipeline[]>([]);
  useEffect(() => {
    const answer = now.data;
    if (answer !== undefined) setHistory((kept) => (kept.at(-1)?.at === answer.at ? kept : [...kept.slice(-1), answer]));
  }, [now.data]);
  const [before, latest] = history.length === 2 ? history : [undefined, history[0]];
  if (latest === undefined) return null;
  const seconds = before === undefined ? 0 : (Date.parse(latest.at) - Date.parse(before.at)) / 1000;
  const rate = (pick: (p: Pipeline) => number | undefined): string => {
    const [a, b] = [before === undefined ? undefined : pick(before), pick(latest)];
    return a === undefined || b === undefined || seconds <= 0 ? '—' : formatNumber(lang, (b - a) / seconds, 1);
  };
  return (
    <div class="cards" data-testid="pipeline">
      <section class="card ok" aria-labelledby="ingest-title">
        <h2 id="ingest-title">{t('ingest')}</h2>
        {latest.ingest === null ? <p>{t('notHere')}</p> : (
          <>
            <p class="big">{t('perSecond', { n: rate((p) => p.ingest?.readings) })}</p>
            <p>{t('readingsTotal', { n: formatNumber(lang, latest.ingest.readings) })}</p>
            <p>
              {t('batches')}: <Counts counts={latest.ingest.batches} t={t} lang={lang} />
            </p>
          </>
        )}
      </section>
      <section class={`card ${Object.values(latest.ingest?.deadLetters ?? {}).some((n) => n > 0) ? 'bad' : 'ok'}`} aria-labelledby="dlq-title">
        <h2 id="dlq-title">{t('deadLetters')}</h2>
        <p data-testid="dead-letters">{latest.ingest === null ? t('notHere') : <Counts counts={latest.ingest.deadLetters} t={t} lang={lang} />}</p>
      </section>
      <section class="card ok" aria-labelledby="engine-title">
        <h2 id="engine-title">{t('alertEngine')}</h2>
        {latest.alerts === null ? <p>{t('notHere')}</p> : (
          <>
            <p class="big">{t('perSecond', { n: rate((p) => p.alerts?.readings) })}</p>
            <p>{t('dropped', { late: latest.alerts.late, duplicates: latest.alerts.duplicates, malformed: latest.alerts.malformed })}</p>
          </>
        )}
      </section>
      <LagCard lag={latest.lag} t={t} lang={lang} />
      <TablesCard lake={latest.lake} t={t} lang={lang} />
    </div>
  );
}

function DevicesTable({ devices, site, t, lang }: { devices: DeviceView[]; site: SiteView; t: T; lang: Lang }) {
  if (devices.length === 0) return <p>{t('noDevices')}</p>;
  return (
    <div class="table-wrap">
      <table data-testid="devices">
        <thead>
          <tr>
            <th scope="col">{t('device')}</th>
            <th scope="col">{t('state')}</th>
            <th scope="col">{t('lastSeen')}</th>
            <th scope="col">{t('values')}</th>
          </tr>
        </thead>
        <tbody>
          {devices.map((device) => (
            <tr key={device.deviceId} data-device={device.deviceId} data-state={device.online ? 'online' : 'offline'}>
              <th scope="row">
                <small>{device.deviceId}</small>
                <br />
                <small>{device.address}</small>
              </th>
              <td>
                <span class={`badge ${device.online ? 'online' : 'offline'}`}>{t(device.online ? 'online' : 'offline')}</span>
              </td>
              <td>{formatTime(lang, device.lastSeenAt, site.timeZone)}</td>
              <td class="wrap" data-field="values">
                {Object.entries(device.properties)
                  .map(([name, value]) => `${name} ${typeof value === 'number' ? formatNumber(lang, value, Number.isInteger(value) ? 0 : 1) : String(value)}`)
                  .join(', ')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface SiteEventView {
  deviceId: string;
  ts: string;
  type: string;
  fromAddress?: string;
  toAddress?: string;
}

/** The site's latest device events, newest first, in the site's time zone. */
function SiteEvents({ events, site, lang, t }: { events: SiteEventView[]; site: SiteView; lang: Lang; t: T }) {
  if (events.length === 0) return <p>{t('noEvents')}</p>;
  return (
    <ol class="events" data-testid="site-events">
      {events.map((event) => (
        <li key={`${event.ts}-${event.deviceId}-${event.type}`} data-device={event.deviceId} data-type={event.type}>
          <time dateTime={event.ts}>{formatTime(lang, event.ts, site.timeZone)}</time> {deviceEventText(lang, event)} <small>{event.deviceId}</small>
        </li>
      ))}
    </ol>
  );
}

/** Readings per second between the last two answers about one site. */
function useReadingsRate(site: SiteView | undefined): number | undefined {
  const [history, setHistory] = useState<Array<{ at: number; readings: number }>>([]);
  useEffect(() => {
    if (site !== undefined) setHistory((kept) => [...kept.slice(-1), { at: Date.now(), readings: site.status.readings }]);
  }, [site]);
  const [before, latest] = history;
  if (before === undefined || latest === undefined || latest.at <= before.at) return undefined;
  return (latest.readings - before.readings) / ((latest.at - before.at) / 1000);
}

/** One site: its state, readings rate, firing alerts and devices with their latest values. */
function SitePage({ siteId, sites, firing, t, lang }: { siteId: string; sites: SiteView[] | undefined; firing: AlertView[]; t: T; lang: Lang }) {
  const site = sites?.find((s) => s.id === siteId);
  const devices = usePolling<{ devices: DeviceView[] }>(`api/v1/sites/${encodeURIComponent(siteId)}/devices`, POLL_MS);
  const events = usePolling<{ events: SiteEventView[] }>(`api/v1/sites/${encodeURIComponent(siteId)}/events`, POLL_MS);
  const rate = useReadingsRate(site);
  const alerts = useMemo(() => firing.filter((alert) => alert.siteId === siteId), [firing, siteId]);
  if (sites === undefined) return null;
  if (site === undefined) return <p role="alert" class="error">{t('noSuchSite', { id: siteId })}</p>;
  return (
    <section data-testid="site-page" data-site={site.id} aria-labelledby="site-title">
      <p>
        <a href="#/">{t('back')}</a>
      </p>
      <h2 id="site-title">{site.name}</h2>
      <div class="cards">
        <section class={`card ${site.status.online ? 'ok' : 'bad'}`} aria-labelledby="site-state">
          <h3 id="site-state">{t('state')}</h3>
          <p class="big">{t(!site.enabled ? 'disabled' : site.status.online ? 'online' : 'offline')}</p>
          <p>{t('lastBatch')}: {site.status.lastBatchAt === null ? t('never') : formatTime(lang, site.status.lastBatchAt, site.timeZone)}</p>
        </section>
        <section class="card ok" aria-labelledby="site-rate">
          <h3 id="site-rate">{t('readingsRate')}</h3>
          <p class="big" data-testid="site-rate">{t('perSecond', { n: rate === undefined ? '—' : formatNumber(lang, rate, 1) })}</p>
          <p>{t('readingsTotal', { n: formatNumber(lang, site.status.readings) })}</p>
        </section>
        <section class={`card ${site.status.devices.online < site.status.devices.total ? 'bad' : 'ok'}`} aria-labelledby="site-devices">
          <h3 id="site-devices">{t('devicesOnline')}</h3>
          <p class="big">
            <DeviceCount counts={site.status.devices} t={t} lang={lang} />
          </p>
        </section>
      </div>
      <h3>{t('firing')}</h3>
      <FiringAlerts alerts={alerts} t={t} lang={lang} />
      <h3>{t('devices')}</h3>
      {devices.error !== undefined && <p role="alert" class="error">{t('unreadable', { error: devices.error })}</p>}
      <DevicesTable devices={devices.data?.devices ?? []} site={site} t={t} lang={lang} />
      <h3>{t('events')}</h3>
      <SiteEvents events={events.data?.events ?? []} site={site} t={t} lang={lang} />
    </section>
  );
}

interface FleetProps {
  sites: SiteView[] | undefined;
  firing: AlertView[];
  resolved: AlertView[];
  alertsMissing: boolean;
  t: T;
  lang: Lang;
}

/** The whole fleet: alerts, the pipeline, the sites' table and plot. */
function Fleet({ sites, firing, resolved, alertsMissing, t, lang }: FleetProps) {
  const firingBySite = useMemo(() => {
    const counts = new Map<string, number>();
    for (const alert of firing) counts.set(alert.siteId, (counts.get(alert.siteId) ?? 0) + 1);
    return counts;
  }, [firing]);
  return (
    <>
      <h2>{t('firing')}</h2>
      {alertsMissing ? <p>{t('alertsOff')}</p> : (
        <>
          <FiringAlerts alerts={firing} t={t} lang={lang} />
          <h3>{t('resolved')}</h3>
          <ResolvedAlerts alerts={resolved} t={t} lang={lang} />
        </>
      )}
      <h2>{t('pipeline')}</h2>
      <PipelinePanel t={t} lang={lang} />
      <h2>{t('sites')}</h2>
      {sites !== undefined && (
        <div class="fleet">
          <div>
            <SitesTable sites={sites} firingBySite={firingBySite} t={t} lang={lang} />
          </div>
          <SiteMap sites={sites} firingBySite={firingBySite} t={t} />
        </div>
      )}
    </>
  );
}

function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const t = useMemo(() => translator(cloudMessages, lang), [lang]);
  const sites = usePolling<{ sites: SiteView[] }>('api/v1/sites', POLL_MS);
  const alerts = usePolling<{ alerts: AlertView[] }>('api/v1/alerts?state=firing&limit=500', POLL_MS);
  const resolved = usePolling<{ alerts: AlertView[] }>('api/v1/alerts?state=resolved&limit=20', POLL_MS);
  const firing = alerts.data?.alerts ?? [];
  const alertsMissing = alerts.error !== undefined && /404|not found/i.test(alerts.error);
  const route = useHashRoute();
  const siteId = route.startsWith('/site/') ? decodeURIComponent(route.slice('/site/'.length)) : undefined;
  return (
    <>
      <header>
        <h1>{t('title')}</h1>
        <div class="header-actions">
          <LanguageSwitch lang={lang} label={t('language')} onChange={(next) => { rememberLang(next); setLang(next); }} />
          <form method="post" action="logout">
            <button type="submit">{t('logout')}</button>
          </form>
        </div>
      </header>
      <main>
        {sites.error !== undefined && <p role="alert" class="error">{t('unreadable', { error: sites.error })}</p>}
        {siteId !== undefined
          ? <SitePage siteId={siteId} sites={sites.data?.sites} firing={firing} t={t} lang={lang} />
          : <Fleet sites={sites.data?.sites} firing={firing} resolved={resolved.data?.alerts ?? []} alertsMissing={alertsMissing} t={t} lang={lang} />}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root !== null) {
  document.documentElement.lang = initialLang();
  render(<App />, root);
}
