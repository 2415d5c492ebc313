// Proves the Salesforce sandbox speaks Salesforce's REST protocol, using the real jsforce 3.x.
// Run by tests/js_proof.rs with SALESFORCE_SANDBOX_URL set; exits non-zero on any mismatch.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const jsforce = require('jsforce');

const BASE = process.env.SALESFORCE_SANDBOX_URL;
const CLIENT_ID = process.env.SALESFORCE_CLIENT_ID || 'handoff-sandbox';
const USERNAME = process.env.SALESFORCE_USERNAME || 'admin@sandbox.example.com';
const KEY = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'sandbox_test_only_jwt_private_key.pem'), 'utf8');
const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

let checks = 0;
function check(cond, what, detail) {
  if (!cond) {
    console.error(`FAILED: ${what}`, detail === undefined ? '' : JSON.stringify(detail));
    process.exit(1);
  }
  checks += 1;
  console.log(`ok ${checks} - ${what}`);
}

function b64url(buf) {
  return Buffer.from(buf).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

function assertion() {
  const header = b64url(JSON.stringify({ alg: 'RS256' }));
  const exp = Math.floor(Date.now() / 1000) + 180;
  const claims = b64url(JSON.stringify({ iss: CLIENT_ID, sub: USERNAME, aud: 'https://login.salesforce.com', exp }));
  const signer = crypto.createSign('RSA-SHA256');
  signer.update(`${header}.${claims}`);
  return `${header}.${claims}.${b64url(signer.sign(KEY))}`;
}

async function main() {
  if (!BASE) throw new Error('SALESFORCE_SANDBOX_URL is not set');

  // 1. JWT bearer flow through jsforce's own OAuth2 client.
  const conn = new jsforce.Connection({ oauth2: { loginUrl: BASE, clientId: CLIENT_ID }, version: '62.0' });
  const user = await conn.authorize({ grant_type: JWT_GRANT, assertion: assertion() });
  check(/^00D\w{15}$/.test(user.organizationId), 'JWT bearer token: organization id from the identity URL', user);
  check(conn.instanceUrl === BASE, 'instance_url is the sandbox', conn.instanceUrl);

  // 2. Paging: the first page stops at 2,000 with a nextRecordsUrl, queryMore and autoFetch follow it.
  const soql = 'SELECT Id, Name, StageName, Account.Name FROM Opportunity ORDER BY Id';
  const first = await conn.query(soql);
  check(first.done === false && first.records.length === 2000, 'first page holds 2,000 records', { done: first.done, n: first.records.length });
  check(typeof first.nextRecordsUrl === 'string' && first.totalSize > 2000, 'nextRecordsUrl and totalSize', first.totalSize);
  const second = await conn.queryMore(first.nextRecordsUrl);
  check(second.done === true && first.records.length + second.records.length === first.totalSize, 'queryMore returns the rest', second.records.length);
  const all = [];
  await new Promise((resolve, reject) => {
    conn.query(soql).on('record', (r) => all.push(r)).on('end', resolve).on('error', reject).run({ autoFetch: true, maxFetch: 100000 });
  });
  check(all.length === first.totalSize, 'autoFetch pages through everything', all.length);
  check(new Set(all.map((r) => r.Id)).size === all.length && all.every((r) => r.Id.length === 18), 'ids are unique and 18 characters');
  check(all[0].Account && typeof all[0].Account.Name === 'string', 'parent relationship fields are nested', all[0]);

  // 3. A child subquery and filters.
  const won = await conn.query(
    "SELECT Id, Name, (SELECT Role, IsPrimary, Contact.Email FROM OpportunityContactRoles ORDER BY IsPrimary DESC) FROM Opportunity WHERE StageName = 'Closed Won' AND Amount > 0 LIMIT 5",
  );
  check(won.records.length > 0, 'Closed Won opportunities are found', won.totalSize);
  const roles = won.records[0].OpportunityContactRoles;
  check(roles && roles.records.length > 0 && roles.records[0].Contact.Email.includes('@'), 'contact roles come back nested', roles);

  // 4. Describe, with the seed's custom fields.
  const d = await conn.sobject('Opportunity').describe();
  const status = d.fields.find((f) => f.name === 'Onboarding_Status__c');
  check(d.keyPrefix === '006' && status && status.type === 'picklist' && status.custom, 'describe lists custom picklists', status);
  check(status.picklistValues.some((p) => p.value === 'In Progress'), 'picklist values are described');
  const stage = d.fields.find((f) => f.name === 'StageName');
  check(stage.picklistValues.some((p) => p.value === 'Closed Won'), 'StageName values include Closed Won');

  // 5. Create, retrieve, update, delete.
  const acct = await conn.sobject('Account').create({ Name: 'jsforce Proof Ltd' });
  check(acct.success && acct.id.startsWith('001') && acct.id.length === 18, 'create returns an 18-character id', acct);
  await conn.sobject('Account').update({ Id: acct.id, Name: 'jsforce Proof Ltd (renamed)', Industry: 'Technology' });
  const got = await conn.sobject('Account').retrieve(acct.id);
  check(got.Name === 'jsforce Proof Ltd (renamed)' && got.Industry === 'Technology', 'update is visible on retrieve', got);
  check(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/.test(got.SystemModstamp), 'SystemModstamp uses Salesforce format', got.SystemModstamp);
  let failed = null;
  try {
    await conn.sobject('Account').create({ Nonexistent__c: 1 });
  } catch (e) {
    failed = e;
  }
  check(failed && failed.errorCode === 'INVALID_FIELD', 'unknown fields are rejected with INVALID_FIELD', failed && failed.errorCode);

  // 6. sObject Collections: create and update several opportunities at once, all or none.
  const opps = [1, 2, 3].map((i) => ({ Name: `Proof ${i}`, StageName: 'Prospecting', CloseDate: '2026-12-31', AccountId: acct.id }));
  const created = await conn.sobject('Opportunity').create(opps, { allOrNone: true });
  check(created.length === 3 && created.every((r) => r.success), 'collection create succeeds', created);
  const updated = await conn
    .sobject('Opportunity')
    .update(created.map((r) => ({ Id: r.id, StageName: 'Closed Won', Onboarding_Status__c: 'Not Started' })), { allOrNone: true });
  check(updated.length === 3 && updated.every((r) => r.success), 'collection update succeeds', updated);
  const check3 = await conn.query(`SELECT Id, IsWon, Probability FROM Opportunity WHERE Id IN ('${created.map((r) => r.id).join("','")}')`);
  check(check3.records.every((r) => r.IsWon === true && r.Probability === 100), 'derived fields follow the stage', check3.records);
  const mixed = await conn
    .sobject('Opportunity')
    .update([{ Id: created[0].id, Name: 'ok' }, { Id: created[1].id, StageName: 'Not A Stage' }], { allOrNone: true });
  check(
    mixed[0].success === false && mixed[1].success === false && JSON.stringify(mixed).includes('ALL_OR_NONE_OPERATION_ROLLED_BACK'),
    'allOrNone rolls the whole collection back',
    mixed,
  );

  // 7. Deletes show in queryAll, limits and getUpdated work.
  await conn.sobject('Account').destroy(acct.id).catch(() => null);
  const gone = await conn.sobject('Opportunity').destroy(created[2].id);
  check(gone.success, 'delete succeeds', gone);
  const deleted = await conn.query(`SELECT Id, IsDeleted FROM Opportunity WHERE Id = '${created[2].id}'`, { scanAll: true });
  check(deleted.records.length === 1 && deleted.records[0].IsDeleted === true, 'queryAll returns deleted rows', deleted.records);
  const limits = await conn.limits();
  check(limits.DailyApiRequests && limits.DailyApiRequests.Max > limits.DailyApiRequests.Remaining, 'limits report API usage', limits.DailyApiRequests);
  const end = new Date(Date.now() + 60000);
  const start = new Date(Date.now() - 29 * 86400 * 1000);
  const changed = await conn.sobject('Opportunity').updated(start.toISOString(), end.toISOString());
  // Salesforce covers whole minutes up to now, so this minute's writes may not be listed yet.
  check(changed.ids.length >= first.totalSize - 10 && /\+0000$/.test(changed.latestDateCovered), 'getUpdated lists the seeded opportunities', changed.latestDateCovered);

  // 8. Web-server flow with PKCE through jsforce's OAuth2: consent page, code, identity, revoke.
  const oauth2 = new jsforce.OAuth2({ loginUrl: BASE, clientId: CLIENT_ID, redirectUri: 'http://localhost:3000/oauth/callback', useVerifier: true });
  const authorizeUrl = oauth2.getAuthorizationUrl({ scope: 'api id refresh_token', state: 'js-1', login_hint: 'maria.lopez@sandbox.example.com' });
  const page = await fetch(authorizeUrl);
  const html = await page.text();
  check(page.status === 200 && html.includes('id="approve">Allow</button>'), 'authorize serves the consent page', page.status);
  const request = /name="request" value="([^"]+)"/.exec(html)[1];
  const chosen = /name="user" id="user-\d+" value="([^"]+)" checked>/.exec(html)[1];
  const decided = await fetch(`${BASE}/services/oauth2/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, user: chosen, decision: 'allow' }).toString(),
  });
  const callback = new URL(decided.headers.get('location'));
  check(decided.status === 302 && callback.searchParams.get('state') === 'js-1', 'Allow redirects back with code and state', callback.search);
  const web = new jsforce.Connection({ oauth2, version: '62.0' });
  const signedIn = await web.authorize(callback.searchParams.get('code'));
  check(signedIn.id === chosen && web.refreshToken, 'code exchange with PKCE signs in the hinted user', signedIn);
  const identity = await web.identity();
  check(identity.username === 'maria.lopez@sandbox.example.com' && identity.display_name === 'Maria Lopez', 'identity URL describes the user', identity);
  const session = web.accessToken;
  await web.logout(true);
  const refused = await fetch(`${BASE}/services/data/v62.0/limits`, { headers: { Authorization: `Bearer ${session}` } });
  const refusal = await refused.json();
  check(refused.status === 401 && refusal[0].errorCode === 'INVALID_SESSION_ID', 'logout revokes the session', refusal);

  console.log(`all checks passed (${checks})`);
}

main().catch((e) => {
  console.error('FAILED with an exception:', e && (e.stack || e));
  process.exit(1);
});
