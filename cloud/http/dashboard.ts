/**
 * The fleet dashboard at `/` of the cloud API, for operators: a login page (server-rendered, in
 * English or Japanese by Accept-Language) that takes the operator token once and sets the session
 * cookie, then the page bundled from web/cloud, which reads the operator routes with that cookie.
 * Without a session `/` sends the browser to the login page and the data routes answer 401.
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { registerStaticPage } from '../../shared/http/static-pages.js';
import { operatorOfToken, type Operator } from './auth.js';
import { endSession, sessionOperator, startSession } from './session.js';

export interface DashboardOptions {
  operators: readonly Operator[];
  /** The API speaks HTTPS: the cookie is then Secure. */
  secure: boolean;
}

const LOGIN_TEXT = {
  en: { title: 'echolake fleet — sign in', token: 'Operator token', submit: 'Sign in', refused: 'That token is no operator\'s. Make one with `echolake-cloud operator-token NAME`.' },
  ja: { title: 'echolake フリート — ログイン', token: 'オペレータートークン', submit: 'ログイン', refused: 'このトークンはどのオペレーターのものでもありません。`echolake-cloud operator-token NAME` で作成してください。' },
} as const;

/** The reader's language: the first of English and Japanese in Accept-Language, English otherwise. */
export function languageOf(acceptLanguage: string | undefined): 'en' | 'ja' {
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0]?.trim().toLowerCase() ?? '';
    if (tag.startsWith('ja')) return 'ja';
    if (tag.startsWith('en')) return 'en';
  }
  return 'en';
}

function loginPage(lang: 'en' | 'ja', refused: boolean): string {
  const text = LOGIN_TEXT[lang];
  return `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${text.title}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="app.css"></head>
<body><header><h1>${text.title}</h1></header>
<main><form class="login" method="post" action="login">
${refused ? `<p role="alert" class="error">${text.refused}</p>` : ''}
<label for="token">${text.token}</label>
<input id="token" name="token" type="password" autocomplete="current-password" required maxlength="256" autofocus>
<button type="submit">${text.submit}</button>
</form></main></body></html>
`;
}

function sendLogin(request: FastifyRequest, reply: FastifyReply, refused: boolean): FastifyReply {
  return reply
    .code(refused ? 401 : 200)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    .send(loginPage(languageOf(request.headers['accept-language']), refused));
}

/** A form body of at most a few KB: the login form's only field is the token. */
function acceptLoginForm(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
}

export const dashboardRoutes: FastifyPluginCallback<DashboardOptions> = (app, { operators, secure }, done) => {
  acceptLoginForm(app);
  registerStaticPage(app, {
    page: 'cloud',
    preHandler: (request, reply, next) => {
      if (sessionOperator(request, operators) === undefined) {
        void reply.redirect('login', 303);
        return;
      }
      next();
    },
  });

  app.get('/login', { schema: { hide: true } }, (request, reply) => sendLogin(request, reply, false));

  app.post<{ Body: { token?: unknown } }>('/login', { schema: { hide: true } }, (request, reply) => {
    const token = typeof request.body?.token === 'string' ? request.body.token : '';
    const name = token === '' ? undefined : operatorOfToken(operators, token);
    const operator = operators.find((candidate) => candidate.name === name);
    if (operator === undefined) {
      request.log.warn({ ip: request.ip }, 'dashboard login refused: unknown operator token');
      return sendLogin(request, reply, true);
    }
    request.log.info({ operator: operator.name, ip: request.ip }, 'dashboard login');
    startSession(reply, operator, secure);
    return reply.redirect('./', 303);
  });

  app.post('/logout', { schema: { hide: true } }, (request, reply) => {
    endSession(request, reply, secure);
    return reply.redirect('login', 303);
  });
  done();
};
