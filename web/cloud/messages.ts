/** The fleet dashboard's words in English and Japanese. */
import type { Messages } from '../shared/i18n.js';

export type CloudKey =
  | 'title' | 'sites' | 'site' | 'state' | 'online' | 'offline' | 'disabled' | 'lastBatch' | 'backlog' | 'alerts'
  | 'firing' | 'noFiring' | 'filter' | 'sortBy' | 'severity' | 'summary' | 'since' | 'device' | 'silenced'
  | 'unreadable' | 'language' | 'logout' | 'never' | 'alertsOff' | 'map' | 'noLocation' | 'timeZone' | 'oldest'
  | 'pipeline' | 'ingest' | 'perSecond' | 'readingsTotal' | 'batches' | 'deadLetters' | 'none' | 'alertEngine'
  | 'dropped' | 'notHere' | 'silence' | 'silenceLabel' | 'silenceComment' | 'silenceFailed' | 'resolved' | 'noResolved' | 'resolvedAt'
  | 'devicesOnline' | 'ofTotal' | 'capped' | 'devices' | 'noDevices' | 'lastSeen' | 'values' | 'readingsRate' | 'back' | 'noSuchSite'
  | 'consumerLag' | 'notConsuming' | 'records' | 'lagUnknown' | 'lakeTables' | 'tableLine' | 'events' | 'noEvents';

export const cloudMessages: Messages<CloudKey> = {
  en: {
    title: 'echolake fleet', sites: 'Sites', site: 'Site', state: 'State', online: 'Online', offline: 'Offline', disabled: 'Disabled',
    lastBatch: 'Last batch', backlog: 'Backlog', alerts: 'Alerts', firing: 'Firing alerts', noFiring: 'No alert is firing.',
    filter: 'Filter sites', sortBy: 'Sort by {column}', severity: 'Severity', summary: 'Summary', since: 'Since', device: 'Device',
    silenced: 'silenced', unreadable: 'data could not be read: {error}', language: 'Language', logout: 'Sign out', never: 'never',
    alertsOff: 'The alerts role is not running in this cloud.', map: 'Where the sites are', noLocation: 'no site has coordinates',
    timeZone: 'Time zone', oldest: 'oldest {time}',
    pipeline: 'Pipeline', ingest: 'Ingest', perSecond: '{n} readings/s', readingsTotal: '{n} readings since start',
    batches: 'Batches', deadLetters: 'Dead letters', none: 'none', alertEngine: 'Alert engine',
    dropped: 'late {late}, duplicate {duplicates}, malformed {malformed}', notHere: 'not running in this process',
    silence: 'Silence 1 h', silenceLabel: 'Silence {rule} at {site} for an hour', silenceComment: 'silenced from the fleet dashboard',
    silenceFailed: 'The silence was refused: {error}', resolved: 'Recently resolved', noResolved: 'No alert resolved lately.', resolvedAt: 'Resolved',
    devicesOnline: 'Devices online', ofTotal: '{online} of {total}', capped: 'more devices than are tracked', devices: 'Devices',
    noDevices: 'No device has reported since the cloud started.', lastSeen: 'Last seen', values: 'Latest values',
    readingsRate: 'Readings', back: '← All sites', noSuchSite: 'There is no site {id}.',
    consumerLag: 'Consumer lag', notConsuming: 'nothing committed (not consuming)', records: '{n} records behind',
    lagUnknown: 'Kafka did not say: {error}', lakeTables: 'Lake tables', tableLine: '{name}: version {version}, {size} in {files} files',
    events: 'Device events', noEvents: 'No device event since the cloud started.',
  },
  ja: {
    title: 'echolake フリート', sites: 'サイト', site: 'サイト', state: '状態', online: 'オンライン', offline: 'オフライン', disabled: '無効',
    lastBatch: '最終バッチ', backlog: '未送信', alerts: 'アラート', firing: '発生中のアラート', noFiring: '発生中のアラートはありません。',
    filter: 'サイトを絞り込む', sortBy: '{column}で並べ替え', severity: '重大度', summary: '概要', since: '発生', device: '機器',
    silenced: 'ミュート中', unreadable: 'データを読めません: {error}', language: '言語', logout: 'ログアウト', never: 'なし',
    alertsOff: 'このクラウドではアラート機能が動いていません。', map: 'サイトの位置', noLocation: '座標のあるサイトはありません',
    timeZone: 'タイムゾーン', oldest: '最古 {time}',
    pipeline: 'パイプライン', ingest: '取り込み', perSecond: '毎秒 {n} 件', readingsTotal: '起動後 {n} 件',
    batches: 'バッチ', deadLetters: 'デッドレター', none: 'なし', alertEngine: 'アラートエンジン',
    dropped: '遅延 {late}、重複 {duplicates}、不正 {malformed}', notHere: 'このプロセスでは動いていません',
    silence: '1時間ミュート', silenceLabel: '{site} の {rule} を1時間ミュート', silenceComment: 'フリートダッシュボードからミュート',
    silenceFailed: 'ミュートは拒否されました: {error}', resolved: '最近解決したアラート', noResolved: '最近解決したアラートはありません。', resolvedAt: '解決',
    devicesOnline: 'オンライン機器', ofTotal: '{total} 台中 {online} 台', capped: '追跡上限を超える機器があります', devices: '機器',
    noDevices: 'クラウド起動後に報告した機器はありません。', lastSeen: '最終受信', values: '最新の値',
    readingsRate: '計測値', back: '← すべてのサイト', noSuchSite: 'サイト {id} はありません。',
    consumerLag: 'コンシューマーラグ', notConsuming: 'コミットなし（未稼働）', records: '{n} 件遅れ',
    lagUnknown: 'Kafka から応答がありません: {error}', lakeTables: 'レイクのテーブル', tableLine: '{name}: バージョン {version}、{files} ファイル {size}',
    events: '機器のイベント', noEvents: 'クラウド起動後の機器イベントはありません。',
  },
};
