/** A device event (found, moved, offline, …) in words, for the edge's device page and the dashboard's site page. */
import { type Lang, type Messages, translator } from './i18n.js';

type EventType = 'found' | 'moved' | 'offline' | 'online' | 'unreachable' | 'propertyMapChanged';

const eventMessages: Messages<EventType> = {
  en: {
    found: 'found', moved: 'moved from {from} to {to}', offline: 'went offline', online: 'back online', unreachable: 'stopped answering',
    propertyMapChanged: 'its property maps changed',
  },
  ja: {
    found: '発見', moved: '{from} から {to} へ移動', offline: 'オフラインになりました', online: 'オンラインに戻りました', unreachable: '応答しなくなりました',
    propertyMapChanged: 'プロパティマップが変わりました',
  },
};

/** The event in the reader's language; a type this page does not know is shown as it came. */
export function deviceEventText(lang: Lang, event: { type: string; fromAddress?: string | undefined; toAddress?: string | undefined }): string {
  if (!Object.hasOwn(eventMessages.en, event.type)) return event.type;
  return translator(eventMessages, lang)(event.type as EventType, { from: event.fromAddress ?? '?', to: event.toAddress ?? '?' });
}
