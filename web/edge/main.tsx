/**
 * The edge's status page: the gateway's health and its air conditioners at a glance, for the
 * technician on site with a phone. Polls the local API every few seconds; a device page
 * (#/device/<id>) shows its latest values and a chart of the local history.
 */
import { render } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { Chart, type Series } from '../shared/chart.js';
import { deviceEventText } from '../shared/device-events.js';
import { LOCALES, formatBytes, formatDuration, formatNumber, formatTime, knownTimeZone, secondsSince } from '../shared/format.js';
import { type Lang, initialLang, rememberLang, translator } from '../shared/i18n.js';
import { LanguageSwitch } from '../shared/language-switch.js';
import { usePolling } from '../shared/poll.js';
import { useHashRoute } from '../shared/route.js';
import { type ApiToken, TokenField, useApiToken } from './api-token.js';
import { type EdgeKey, edgeMessages } from './messages.js';
import { SettingForm } from './setting-form.js';
import type { DeviceOverview, GatewayStatus, PropertyValue, Reading } from './types.js';

const POLL_MS = 2_000;
/** How far back the device chart reaches; the history route gives at most 1000 readings. */
const HISTORY_HOURS = 6;
/** A clock further than this from the viewer's (whose phone keeps network time) is called off. */
const CLOCK_SKEW_WARN_S = 120;

type T = (key: EdgeKey, values?: Record<string, string | number>) => string;

function Card({ title, ok, children, id }: { title: string; ok: boolean; children: preact.ComponentChildren; id: string }) {
  return (
    <section class={`card ${ok ? 'ok' : 'bad'}`} aria-labelledby={`${id}-title`} data-testid={id}>
      <h2 id={`${id}-title`}>
        <span class="dot" aria-hidden="true" />
        {title}
      </h2>
      {children}
    </section>
  );
}

function GatewayHealth({ status, t, lang }: { status: GatewayStatus; t: T; lang: Lang }) {
  const { uplink, backlog, clock, echonet } = status;
  const zone = clock.timeZone;
  const skew = (Date.parse(clock.now) - Date.now()) / 1000;
  const clockOk = clock.plausible && Math.abs(skew) < CLOCK_SKEW_WARN_S;
  const dbShare = status.databaseCapBytes > 0 ? status.databaseBytes / status.databaseCapBytes : 0;
  const reasonKey = uplink.failure === null ? undefined : (`reason_${uplink.failure.reason}` as EdgeKey);
  return (
    <div class="cards">
      <Card id="uplink" title={t('uplink')} ok={uplink.state === 'connected'}>
        <p class="big">{uplink.state === 'connected' ? t('connected') : t('notConnected')}</p>
        {uplink.failure !== null && reasonKey !== undefined && (
          <p class="reason" data-testid="uplink-reason" data-reason={uplink.failure.reason}>
            {t(reasonKey)}
            <br />
            <small>
              {uplink.failure.detail} · <time dateTime={uplink.failure.at}>{formatTime(lang, uplink.failure.at, zone)}</time>
            </small>
          </p>
        )}
        <p>
          {t('lastAck')}: {uplink.lastAckAt === null ? t('never') : formatTime(lang, uplink.lastAckAt, zone)}
        </p>
      </Card>
      <Card id="backlog" title={t('backlog')} ok={(backlog.oldestUnsentAgeSeconds ?? 0) < 300}>
        <p class="big">{formatNumber(lang, backlog.depth)}</p>
        {backlog.oldestUnsentAgeSeconds !== null && <p>{t('oldest', { age: formatDuration(lang, backlog.oldestUnsentAgeSeconds) })}</p>}
        <p data-testid="dropped">
          {t('dropped')}: {formatNumber(lang, status.droppedReadings)}
          {Object.keys(status.droppedByReason).length > 0 && (
            <small>
              {' '}({Object.entries(status.droppedByReason).map(([reason, n]) => `${t(`drop_${reason}` as EdgeKey)} ${formatNumber(lang, n)}`).join(', ')})
            </small>
          )}
        </p>
        <p>{t('readingsRecorded', { n: formatNumber(lang, status.readingsRecorded) })}</p>
      </Card>
      <Card id="storage" title={t('database')} ok={dbShare < 0.8 && (status.diskFreeBytes ?? Infinity) > 50 * 1024 * 1024}>
        <p>{t('ofCap', { size: formatBytes(lang, status.databaseBytes), cap: formatBytes(lang, status.databaseCapBytes) })}</p>
        <meter min={0} max={1} high={0.8} value={dbShare} aria-label={t('database')} />
        <p>
          {t('freeDisk')}: {status.diskFreeBytes === null ? '—' : formatBytes(lang, status.diskFreeBytes)}
        </p>
      </Card>
      <Card id="clock" title={t('clock')} ok={clockOk}>
        <p class="big">
          <time dateTime={clock.now} data-testid="clock-now">{formatTime(lang, clock.now, zone)}</time>
        </p>
        <p>{clock.plausible ? t('clockSkew', { skew: formatDuration(lang, Math.abs(skew)) }) : t('clockWrong')}</p>
        <p data-testid="time-zone">
          {t('timeZone')}: {zone}
        </p>
      </Card>
      <Card id="echonet" title={t('echonet')} ok={echonet.up}>
        <p class="big">{echonet.interface}</p>
        <p>{echonet.up ? t('interfaceUp') : t('interfaceDown')}</p>
      </Card>
      <Card id="version" title={t('gateway')} ok={true}>
        <p>
          {t('version')}: {status.version}
        </p>
        <p>
          {t('uptime')}: {formatDuration(lang, status.uptimeSeconds)}
        </p>
      </Card>
    </div>
  );
}

/** A search for devices now, behind the API token. */
function Actions({ token, t }: { token: ApiToken; t: T }) {
  const [outcome, setOutcome] = useState<string | undefined>(undefined);
  const search = async (event: Event): Promise<void> => {
    event.preventDefault();
    setOutcome(t('searching'));
    try {
      const response = await fetch('/api/v1/discovery', { method: 'POST', headers: { authorization: token.authorization(), accept: 'application/json' } });
      const body = (await response.json()) as { nodesAnswered?: number; error?: { message: string } };
      setOutcome(response.ok ? t('searchDone', { n: body.nodesAnswered ?? 0 }) : t('searchFailed', { error: body.error?.message ?? String(response.status) }));
    } catch (err) {
      setOutcome(t('searchFailed', { error: (err as Error).message }));
    }
  };
  return (
    <section aria-labelledby="actions-title">
      <h2 id="actions-title">{t('actions')}</h2>
      <form class="actions" onSubmit={(e) => void search(e)}>
        <TokenField token={token} label={t('apiToken')} />
        <button type="submit">{t('searchNow')}</button>
        {outcome !== undefined && <p role="status" data-testid="action-outcome">{outcome}</p>}
      </form>
    </section>
  );
}

function show(value: PropertyValue | undefined, lang: Lang, unit = '', digits = 0): string {
  if (value === undefined || value === null) return '—';
  if (typeof value === 'number') return `${formatNumber(lang, value, digits)}${unit}`;
  return String(value);
}

const MODES = new Set(['auto', 'cooling', 'heating', 'dehumidification', 'circulation', 'other']);

/** The operation mode in the reader's words; an unknown value as the device said it. */
function modeOf(value: PropertyValue | undefined, t: T, lang: Lang): string {
  return typeof value === 'string' && MODES.has(value) ? t(`mode_${value}` as EdgeKey) : show(value, lang);
}

function Availability({ state, t }: { state: DeviceOverview['availability']; t: T }) {
  return <span class={`badge ${state}`}>{t(state)}</span>;
}

function DeviceTable({ devices, t, lang }: { devices: DeviceOverview[]; t: T; lang: Lang }) {
  if (devices.length === 0) return <p>{t('noDevices')}</p>;
  return (
    <div class="table-wrap">
      <table data-testid="devices">
        <thead>
          <tr>
            <th scope="col">{t('device')}</th>
            <th scope="col">{t('availability')}</th>
            <th scope="col">{t('operation')}</th>
            <th scope="col">{t('mode')}</th>
            <th scope="col">{t('setTemp')}</th>
            <th scope="col">{t('roomTemp')}</th>
            <th scope="col">{t('humidity')}</th>
            <th scope="col">{t('power')}</th>
            <th scope="col">{t('lastSeen')}</th>
            <th scope="col">{t('requests')}</th>
          </tr>
        </thead>
        <tbody>
          {devices.map((device) => {
            const p = device.latest?.properties ?? {};
            const on = p.operationStatus;
            return (
              <tr key={device.id} data-device={device.id} data-availability={device.availability}>
                <th scope="row">
                  <a href={`#/device/${encodeURIComponent(device.id)}`}>{device.address}</a>
                  <br />
                  <small>{device.deviceType}</small>
                </th>
                <td>
                  <Availability state={device.availability} t={t} />
                </td>
                <td>{on === undefined || on === null ? '—' : on === true || on === 'on' ? t('on') : t('off')}</td>
                <td>{modeOf(p.operationMode, t, lang)}</td>
                <td data-field="targetTemperature">{show(p.targetTemperature, lang, ' °C')}</td>
                <td data-field="roomTemperature">{show(p.roomTemperature, lang, ' °C')}</td>
                <td>{show(p.humidity, lang, ' %')}</td>
                <td>{show(p.instantaneousElectricPowerConsumption, lang, ' W')}</td>
                <td>{t('ago', { time: formatDuration(lang, secondsSince(device.lastSeenAt)) })}</td>
                <td>
                  {device.requests === null ? '—' : (
                    <small>
                      {formatNumber(lang, device.requests.requests)} · {t('timeoutsRetries', { timeouts: device.requests.timeouts, retries: device.requests.retries })} ·{' '}
                      {t('batch', { n: device.requests.batchSize })}
                    </small>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function HistoryChart({ readings, zone, t, lang }: { readings: Reading[]; zone: string | undefined; t: T; lang: Lang }) {
  const data = useMemo(() => {
    const values = readings.filter((r) => r.kind !== 'event' && r.properties !== undefined);
    const pick = (name: string): Array<number | null> => values.map((r) => {
      const v = r.properties?.[name];
      return typeof v === 'number' ? v : null;
    });
    const series: Series[] = [
      { label: t('roomTemp'), color: '#c0392b', values: pick('roomTemperature'), scale: 'left' },
      { label: t('setTemp'), color: '#7f8c8d', values: pick('targetTemperature'), scale: 'left' },
      { label: t('power'), color: '#2471a3', values: pick('instantaneousElectricPowerConsumption'), scale: 'right' },
    ];
    return { xs: values.map((r) => Date.parse(r.ts) / 1000), series };
  }, [readings, t]);
  if (data.xs.length === 0) return <p>{t('noHistory')}</p>;
  return <Chart xs={data.xs} series={data.series} leftUnit="°C" rightUnit="W" title={t('history')} locale={LOCALES[lang]} timeZone={knownTimeZone(zone)} />;
}

/** The newest events of the device page's timeline. */
const EVENTS_SHOWN = 10;

function EventTimeline({ readings, zone, t, lang }: { readings: Reading[]; zone: string | undefined; t: T; lang: Lang }) {
  const events = readings.filter((r) => r.kind === 'event' && r.event !== undefined).slice(-EVENTS_SHOWN).reverse();
  if (events.length === 0) return <p>{t('noEvents')}</p>;
  return (
    <ol class="events" data-testid="events">
      {events.map((r) => {
        const text = r.event === undefined ? '' : deviceEventText(lang, r.event);
        return (
          <li key={r.seq}>
            <time dateTime={r.ts}>{formatTime(lang, r.ts, zone)}</time> {text}
          </li>
        );
      })}
    </ol>
  );
}

interface DevicePageProps {
  id: string;
  devices: DeviceOverview[] | undefined;
  /** The site's time zone, once the status has told it. */
  zone: string | undefined;
  token: ApiToken;
  t: T;
  lang: Lang;
}

function DevicePage({ id, devices, zone, token, t, lang }: DevicePageProps) {
  // Fixed once per visit: the chart redraws every 30 s with the readings that arrived since.
  const [since] = useState(() => new Date(Date.now() - HISTORY_HOURS * 3600_000).toISOString());
  const history = usePolling<{ readings: Reading[] }>(`/api/v1/devices/${encodeURIComponent(id)}/readings?since=${since}&limit=1000`, 30_000);
  const device = devices?.find((d) => d.id === id);
  return (
    <section aria-labelledby="device-title">
      <p>
        <a href="#/">{t('back')}</a>
      </p>
      <h2 id="device-title">
        {device?.address ?? id} {device !== undefined && <Availability state={device.availability} t={t} />}
      </h2>
      <p>
        <small>{id}</small>
      </p>
      <h3>{t('history')}</h3>
      {history.data !== undefined && <HistoryChart readings={history.data.readings} zone={zone} t={t} lang={lang} />}
      <h3>{t('events')}</h3>
      {history.data !== undefined && <EventTimeline readings={history.data.readings} zone={zone} t={t} lang={lang} />}
      <h3>{t('properties')}</h3>
      {device?.latest !== undefined && device.latest !== null && (
        <div class="table-wrap">
          <table data-testid="properties">
            <thead>
              <tr>
                <th scope="col">{t('property')}</th>
                <th scope="col">{t('value')}</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(device.latest.properties).map(([name, value]) => (
                <tr key={name} data-property={name}>
                  <th scope="row">{name}</th>
                  <td>{show(value, lang, '', typeof value === 'number' && !Number.isInteger(value) ? 1 : 0)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {device !== undefined && <SettingForm deviceId={id} current={device.latest?.properties ?? {}} token={token} t={t} lang={lang} />}
    </section>
  );
}

function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const t = useMemo(() => translator(edgeMessages, lang), [lang]);
  const route = useHashRoute();
  // Typed once for the tab: the search on the overview and the setting form on a device's page share it.
  const token = useApiToken();
  const status = usePolling<GatewayStatus>('/api/v1/status', POLL_MS);
  const devices = usePolling<{ devices: DeviceOverview[] }>('/api/v1/devices', POLL_MS);
  const error = status.error ?? devices.error;
  const deviceId = route.startsWith('/device/') ? decodeURIComponent(route.slice('/device/'.length)) : undefined;
  return (
    <>
      <header>
        <h1>
          {t('title')} {status.data !== undefined && <span class="site">{status.data.siteId}</span>}
        </h1>
        <LanguageSwitch lang={lang} label={t('language')} onChange={(next) => { rememberLang(next); setLang(next); }} />
      </header>
      <main>
        {error !== undefined && <p role="alert" class="error">{t('unreadable', { error })}</p>}
        {deviceId !== undefined ? (
          // Keyed by the device: another device's page starts afresh (its history window, an empty setting form).
          <DevicePage key={deviceId} id={deviceId} devices={devices.data?.devices} zone={status.data?.clock.timeZone} token={token} t={t} lang={lang} />
        ) : (
          <>
            {status.data !== undefined && <GatewayHealth status={status.data} t={t} lang={lang} />}
            <h2>{t('devices')}</h2>
            {devices.data !== undefined && <DeviceTable devices={devices.data.devices} t={t} lang={lang} />}
            <Actions token={token} t={t} />
          </>
        )}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root !== null) {
  document.documentElement.lang = initialLang();
  render(<App />, root);
}
