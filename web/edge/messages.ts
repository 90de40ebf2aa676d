/** The edge status page's words in English and Japanese. */
import type { SettableName } from '../../shared/contract/settable.js';
import type { Messages } from '../shared/i18n.js';

export type EdgeKey =
  | 'title' | 'gateway' | 'uplink' | 'connected' | 'notConnected' | 'backlog' | 'oldest' | 'lastAck' | 'never'
  | 'dropped' | 'database' | 'ofCap' | 'freeDisk' | 'clock' | 'clockOk' | 'clockWrong' | 'clockSkew' | 'echonet'
  | 'interfaceUp' | 'interfaceDown' | 'version' | 'uptime' | 'devices' | 'noDevices' | 'device' | 'availability'
  | 'operation' | 'mode' | 'setTemp' | 'roomTemp' | 'humidity' | 'power' | 'lastSeen' | 'requests' | 'online'
  | 'unreachable' | 'offline' | 'on' | 'off' | 'unreadable' | 'back' | 'properties' | 'property' | 'value'
  | 'history' | 'noHistory' | 'temperature' | 'language' | 'address' | 'timeoutsRetries' | 'batch'
  | 'reason_dns' | 'reason_tls' | 'reason_credentials' | 'reason_refused' | 'reason_closed' | 'reason_no_route'
  | 'reason_timeout' | 'reason_other' | 'ago' | 'readingsRecorded' | 'events' | 'noEvents'
  | 'mode_auto' | 'mode_cooling' | 'mode_heating' | 'mode_dehumidification' | 'mode_circulation' | 'mode_other'
  | 'actions' | 'apiToken' | 'searchNow' | 'searching' | 'searchDone' | 'searchFailed' | 'timeZone'
  | 'changeSetting' | 'setting' | 'newValue' | 'change' | 'changing' | 'setDone' | 'setRefused' | 'setNoAnswer' | 'setNotSent'
  | `prop_${SettableName}` | 'airFlowAuto'
  | 'drop_cap' | 'drop_corrupt' | 'drop_disk-full' | 'drop_shutdown';

export const edgeMessages: Messages<EdgeKey> = {
  en: {
    title: 'echolake gateway', gateway: 'Gateway', uplink: 'Uplink to the cloud', connected: 'Connected', notConnected: 'Not connected',
    backlog: 'Backlog', oldest: 'oldest waiting {age}', lastAck: 'Last acknowledgement', never: 'none since start',
    dropped: 'Readings dropped', database: 'Database', ofCap: '{size} of {cap}', freeDisk: 'Free disk', clock: 'Clock',
    clockOk: 'plausible', clockWrong: 'wrong: before this software existed; check NTP', clockSkew: '{skew} off this device\'s clock',
    echonet: 'ECHONET Lite interface', interfaceUp: 'up', interfaceDown: 'down: no network interface has this address',
    version: 'Version', uptime: 'Uptime', devices: 'Air conditioners', noDevices: 'No device found yet: discovery runs every few minutes.',
    device: 'Device', availability: 'State', operation: 'Operation', mode: 'Mode', setTemp: 'Set', roomTemp: 'Room',
    humidity: 'Humidity', power: 'Power', lastSeen: 'Last seen', requests: 'Requests', online: 'Online', unreachable: 'Unreachable',
    offline: 'Offline', on: 'On', off: 'Off', unreadable: 'page data could not be read: {error}', back: '← All devices',
    properties: 'Latest values', property: 'Property', value: 'Value', history: 'Last hours', noHistory: 'No history yet.',
    temperature: 'Temperature', language: 'Language', address: 'Address', timeoutsRetries: '{timeouts} timeouts, {retries} retries',
    batch: '{n} per Get',
    reason_dns: 'the cloud\'s name does not resolve: check DNS and uplink.url',
    reason_tls: 'TLS failed: check the CA file, the certificates and the clock',
    reason_credentials: 'the cloud refused this site\'s credentials: check uplink.passwordFile',
    reason_refused: 'the cloud refused the connection: is the broker running, is the port right?',
    reason_closed: 'the broker closed the connection',
    reason_no_route: 'no route to the cloud: check the network cable, Wi-Fi or router',
    reason_timeout: 'the cloud does not answer: a firewall, or the network is down',
    reason_other: 'the connection failed',
    ago: '{time} ago', readingsRecorded: '{n} recorded since start', events: 'Events', noEvents: 'No event in the local history.',
    mode_auto: 'auto', mode_cooling: 'cooling', mode_heating: 'heating', mode_dehumidification: 'dry', mode_circulation: 'fan', mode_other: 'other',
    actions: 'Actions', apiToken: 'API token (api.token)', searchNow: 'Search for devices now', searching: 'Searching…',
    searchDone: '{n} nodes answered', searchFailed: 'Search failed: {error}', timeZone: 'Time zone',
    changeSetting: 'Change a setting', setting: 'Setting', newValue: 'New value', change: 'Change', changing: 'Sending…',
    setDone: 'Done: {name} is now {value}', setRefused: 'Refused:', setNoAnswer: 'Not done: no answer', setNotSent: 'Not sent: the gateway did not answer',
    prop_operationStatus: 'Operation', prop_operationMode: 'Mode', prop_targetTemperature: 'Set temperature', prop_airFlowLevel: 'Air flow',
    airFlowAuto: 'auto',
    'drop_cap': 'at the database cap', 'drop_corrupt': 'with a corrupt database', 'drop_disk-full': 'disk full', 'drop_shutdown': 'at shutdown',
  },
  ja: {
    title: 'echolake ゲートウェイ', gateway: 'ゲートウェイ', uplink: 'クラウドへの接続', connected: '接続中', notConnected: '未接続',
    backlog: '未送信', oldest: '最古の待ち {age}', lastAck: '最後の受領確認', never: '起動後なし',
    dropped: '破棄した計測値', database: 'データベース', ofCap: '{size} / 上限 {cap}', freeDisk: 'ディスク空き', clock: '時計',
    clockOk: '正常', clockWrong: '誤り: ソフトウェアより古い日時です。NTP を確認してください', clockSkew: 'この端末の時計と {skew} ずれています',
    echonet: 'ECHONET Lite インターフェース', interfaceUp: '稼働中', interfaceDown: '停止: このアドレスを持つインターフェースがありません',
    version: 'バージョン', uptime: '稼働時間', devices: 'エアコン', noDevices: '機器はまだ見つかっていません。探索は数分ごとに行われます。',
    device: '機器', availability: '状態', operation: '運転', mode: 'モード', setTemp: '設定', roomTemp: '室温',
    humidity: '湿度', power: '電力', lastSeen: '最終応答', requests: '要求', online: 'オンライン', unreachable: '応答なし',
    offline: 'オフライン', on: '運転', off: '停止', unreadable: 'データを読めません: {error}', back: '← 機器一覧',
    properties: '最新の値', property: 'プロパティ', value: '値', history: '直近の履歴', noHistory: '履歴はまだありません。',
    temperature: '温度', language: '言語', address: 'アドレス', timeoutsRetries: 'タイムアウト {timeouts} 回、再試行 {retries} 回',
    batch: '1回の Get で {n} 件',
    reason_dns: 'クラウドの名前を解決できません: DNS と uplink.url を確認してください',
    reason_tls: 'TLS に失敗しました: CA ファイル、証明書、時計を確認してください',
    reason_credentials: 'クラウドがこのサイトの認証情報を拒否しました: uplink.passwordFile を確認してください',
    reason_refused: 'クラウドが接続を拒否しました: ブローカーは動いていますか、ポートは正しいですか',
    reason_closed: 'ブローカーが接続を閉じました',
    reason_no_route: 'クラウドへの経路がありません: ケーブル、Wi-Fi、ルーターを確認してください',
    reason_timeout: 'クラウドが応答しません: ファイアウォールか、ネットワークの停止',
    reason_other: '接続に失敗しました',
    ago: '{time}前', readingsRecorded: '起動後 {n} 件を記録', events: 'イベント', noEvents: 'ローカル履歴にイベントはありません。',
    mode_auto: '自動', mode_cooling: '冷房', mode_heating: '暖房', mode_dehumidification: '除湿', mode_circulation: '送風', mode_other: 'その他',
    actions: '操作', apiToken: 'API トークン (api.token)', searchNow: '今すぐ機器を探索', searching: '探索中…',
    searchDone: '{n} 台のノードが応答しました', searchFailed: '探索に失敗しました: {error}', timeZone: 'タイムゾーン',
    changeSetting: '設定の変更', setting: '項目', newValue: '新しい値', change: '変更', changing: '送信中…',
    setDone: '完了: {name} は {value} になりました', setRefused: '拒否されました:', setNoAnswer: '実行されませんでした: 応答がありません', setNotSent: '送信できませんでした: ゲートウェイが応答しません',
    prop_operationStatus: '運転', prop_operationMode: 'モード', prop_targetTemperature: '設定温度', prop_airFlowLevel: '風量',
    airFlowAuto: '自動',
    'drop_cap': 'データベース上限', 'drop_corrupt': 'データベース破損', 'drop_disk-full': 'ディスク満杯', 'drop_shutdown': '停止時',
  },
};
