/**
 * Changing a setting of one air conditioner from its page: a property and a value the command
 * contract allows, sent as the local API's `PUT /elapi/v1/devices/{id}/properties/{name}` with the
 * API token; the answer says done (with the value the device reports back), refused (and the API's
 * reason) or no answer from the device.
 */
import { useState } from 'preact/hooks';
import type { SettableName } from '../../shared/contract/settable.js';
import { formatNumber } from '../shared/format.js';
import type { Lang } from '../shared/i18n.js';
import { type ApiToken, TokenField } from './api-token.js';
import type { EdgeKey } from './messages.js';
import { type Field, SETTABLE_FIELDS, type SettableValue, offers } from './settable-fields.js';
import type { PropertyValue } from './types.js';

type T = (key: EdgeKey, values?: Record<string, string | number>) => string;

type Outcome =
  | { readonly kind: 'sending' }
  | { readonly kind: 'done'; readonly name: SettableName; readonly value: PropertyValue }
  /** refused: the API said no (token, value, the device refused); no-answer: the device (or a busy gateway) did not answer; not-sent: the gateway did not. */
  | { readonly kind: 'refused' | 'no-answer' | 'not-sent'; readonly reason: string };

const UNITS: Partial<Record<SettableName, string>> = { targetTemperature: ' °C' };

/** A value in the reader's words: on/off, the mode's name, a number in their locale. */
export function settingValueText(name: SettableName, value: PropertyValue, t: T, lang: Lang): string {
  if (value === null) return '—';
  if (typeof value === 'boolean') return t(value ? 'on' : 'off');
  if (typeof value === 'number') return `${formatNumber(lang, value)}${UNITS[name] ?? ''}`;
  if (name === 'operationMode') return t(`mode_${value}` as EdgeKey);
  return value === 'auto' ? t('airFlowAuto') : value;
}

/** The field's text for a value: a choice's option value (JSON keeps true, 3 and "auto" apart), a number as typed. */
function encode(field: Field, value: SettableValue): string {
  return field.kind === 'choice' ? JSON.stringify(value) : String(value);
}

function decode(field: Field, text: string): SettableValue {
  return field.kind === 'choice' ? (JSON.parse(text) as SettableValue) : Number(text);
}

/** What the form shows first for a property: the device's value when the field offers it. */
function startingText(field: Field, current: PropertyValue | undefined): string {
  if (offers(field, current)) return encode(field, current);
  return field.kind === 'choice' ? encode(field, field.options[0] ?? '') : '';
}

async function putProperty(deviceId: string, name: SettableName, value: SettableValue, authorization: string): Promise<Outcome> {
  let response: Response;
  try {
    response = await fetch(`/elapi/v1/devices/${encodeURIComponent(deviceId)}/properties/${name}`, {
      method: 'PUT',
      headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ [name]: value }),
    });
  } catch (err) {
    return { kind: 'not-sent', reason: (err as Error).message };
  }
  const body = (await response.json().catch(() => undefined)) as (Record<string, PropertyValue> & { error?: { message?: string } }) | undefined;
  if (response.ok) return { kind: 'done', name, value: body?.[name] ?? null };
  const reason = body?.error?.message ?? `${response.status} ${response.statusText}`;
  return { kind: response.status === 503 ? 'no-answer' : 'refused', reason };
}

function OutcomeLine({ outcome, t, lang }: { outcome: Outcome; t: T; lang: Lang }) {
  const summary =
    outcome.kind === 'sending' ? t('changing')
    : outcome.kind === 'done' ? t('setDone', { name: t(`prop_${outcome.name}`), value: settingValueText(outcome.name, outcome.value, t, lang) })
    : outcome.kind === 'refused' ? t('setRefused')
    : outcome.kind === 'no-answer' ? t('setNoAnswer')
    : t('setNotSent');
  return (
    <p role="status" data-testid="setting-outcome" data-outcome={outcome.kind} class={outcome.kind === 'done' || outcome.kind === 'sending' ? '' : 'reason'}>
      {summary}
      {'reason' in outcome && (
        <>
          <br />
          <small>{outcome.reason}</small>
        </>
      )}
    </p>
  );
}

function ValueControl({ name, field, text, onChange, t, lang }: { name: SettableName; field: Field; text: string; onChange: (text: string) => void; t: T; lang: Lang }) {
  if (field.kind === 'integer') {
    return <input id="setting-value" type="number" required min={field.min} max={field.max} step={1} inputMode="numeric" value={text} onInput={(e) => onChange(e.currentTarget.value)} data-testid="setting-value" />;
  }
  return (
    <select id="setting-value" value={text} onChange={(e) => onChange(e.currentTarget.value)} data-testid="setting-value">
      {field.options.map((option) => (
        <option key={encode(field, option)} value={encode(field, option)}>
          {settingValueText(name, option, t, lang)}
        </option>
      ))}
    </select>
  );
}

export function SettingForm({ deviceId, current, token, t, lang }: { deviceId: string; current: Readonly<Record<string, PropertyValue>>; token: ApiToken; t: T; lang: Lang }) {
  const [name, setName] = useState<SettableName>(SETTABLE_FIELDS[0]?.name ?? 'operationStatus');
  const field = SETTABLE_FIELDS.find((f) => f.name === name)?.field;
  // Starts from the device's value; the polls that follow do not overwrite what the technician chose.
  const [text, setText] = useState(() => (field === undefined ? '' : startingText(field, current[name])));
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined);
  if (field === undefined) return null;
  const choose = (next: SettableName): void => {
    setName(next);
    const nextField = SETTABLE_FIELDS.find((f) => f.name === next)?.field;
    if (nextField !== undefined) setText(startingText(nextField, current[next]));
  };
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setOutcome({ kind: 'sending' });
    setOutcome(await putProperty(deviceId, name, decode(field, text), token.authorization()));
  };
  return (
    <section aria-labelledby="setting-title">
      <h3 id="setting-title">{t('changeSetting')}</h3>
      <form class="actions" onSubmit={(e) => void submit(e)} data-testid="setting-form">
        {/* Labels by for/id, not wrapped: a wrapped select would add its chosen option to its name. */}
        <span class="field">
          <label for="setting-name">{t('setting')}</label>{' '}
          <select id="setting-name" value={name} onChange={(e) => choose(e.currentTarget.value as SettableName)} data-testid="setting-name">
            {SETTABLE_FIELDS.map((f) => (
              <option key={f.name} value={f.name}>
                {t(`prop_${f.name}`)}
              </option>
            ))}
          </select>
        </span>
        <span class="field">
          <label for="setting-value">{t('newValue')}</label> <ValueControl name={name} field={field} text={text} onChange={setText} t={t} lang={lang} />
        </span>
        <TokenField token={token} label={t('apiToken')} />
        <button type="submit" disabled={outcome?.kind === 'sending'}>
          {t('change')}
        </button>
        {outcome !== undefined && <OutcomeLine outcome={outcome} t={t} lang={lang} />}
      </form>
    </section>
  );
}
