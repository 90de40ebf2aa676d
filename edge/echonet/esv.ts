/** ECHONET Lite service codes (ESV): requests 0x6X, responses and notifications 0x7X, refusals (SNA) 0x5X. */
export const ESV = {
  SetI: 0x60,
  SetC: 0x61,
  Get: 0x62,
  InfReq: 0x63,
  SetGet: 0x6e,
  SetRes: 0x71,
  GetRes: 0x72,
  Inf: 0x73,
  Infc: 0x74,
  InfcRes: 0x7a,
  SetGetRes: 0x7e,
  SetISna: 0x50,
  SetCSna: 0x51,
  GetSna: 0x52,
  InfSna: 0x53,
  SetGetSna: 0x5e,
} as const;

export type EsvName = keyof typeof ESV;
export type Esv = (typeof ESV)[EsvName];

/** The three ESVs whose frames carry two property lists (OPCSet then OPCGet). */
export type SetGetEsv = typeof ESV.SetGet | typeof ESV.SetGetRes | typeof ESV.SetGetSna;
export type SingleListEsv = Exclude<Esv, SetGetEsv>;

const NAMES = new Map<number, EsvName>(Object.entries(ESV).map(([name, code]) => [code, name as EsvName]));

export function isEsv(value: number): value is Esv {
  return NAMES.has(value);
}

export function esvName(esv: Esv): EsvName {
  // Every Esv is in NAMES by construction.
  return NAMES.get(esv) as EsvName;
}

export function isSetGetEsv(esv: Esv): esv is SetGetEsv {
  return esv === ESV.SetGet || esv === ESV.SetGetRes || esv === ESV.SetGetSna;
}

/** ESVs a controller or device sends unprompted or as a request, i.e. frames a peer must handle. */
export function isRequestEsv(esv: Esv): boolean {
  return esv >= 0x60 && esv <= 0x6f;
}

/** The ESVs that can answer a request; SetI succeeds silently, so only its SNA comes back. */
export function responseEsvsFor(request: Esv): readonly Esv[] {
  switch (request) {
    case ESV.SetI:
      return [ESV.SetISna];
    case ESV.SetC:
      return [ESV.SetRes, ESV.SetCSna];
    case ESV.Get:
      return [ESV.GetRes, ESV.GetSna];
    case ESV.InfReq:
      return [ESV.Inf, ESV.InfSna];
    case ESV.SetGet:
      return [ESV.SetGetRes, ESV.SetGetSna];
    case ESV.Infc:
      return [ESV.InfcRes];
    default:
      return [];
  }
}

/** Whether a frame with this ESV is only ever sent as an answer to a request of ours. */
export function isResponseOnlyEsv(esv: Esv): boolean {
  return esv !== ESV.Inf && esv !== ESV.Infc && !isRequestEsv(esv);
}
