// Proof that the HubSpot sandbox speaks HubSpot's protocol: drives it with the real
// @hubspot/api-client and exits non-zero on any mismatch.
//
//   HUBSPOT_SANDBOX_URL=http://127.0.0.1:8702 HUBSPOT_WEBHOOK_PORT=8799 node proof.js
//
// The sandbox must run the default fixture and deliver webhooks to
// http://127.0.0.1:$HUBSPOT_WEBHOOK_PORT/webhooks (the Rust test tests/js_proof.rs sets this up).
'use strict';

const http = require('http');
const assert = require('assert/strict');
const hubspot = require('@hubspot/api-client');
const { Signature } = require('@hubspot/api-client/lib/src/utils/signature');

const BASE = process.env.HUBSPOT_SANDBOX_URL || 'http://127.0.0.1:8702';
const WEBHOOK_PORT = Number(process.env.HUBSPOT_WEBHOOK_PORT || 0);
const CLIENT_ID = 'handoff-sandbox';
const CLIENT_SECRET = 'handoff-sandbox-secret';
const REDIRECT = 'http://localhost:3000/oauth-callback';

function step(name) {
  console.log(`ok - ${name}`);
}

// Listens for webhook deliveries; resolves with the first one matching `wanted`.
function webhookReceiver(port) {
  const waiters = [];
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const delivery = { headers: req.headers, url: `http://${req.headers.host}${req.url}`, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(delivery);
      res.writeHead(204).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  const until = async (wanted, ms) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = seen.find(wanted);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error('no matching webhook delivery arrived');
      await new Promise((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, Math.max(0, deadline - Date.now()));
      });
    }
  };
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, until })));
}

async function oauthTokens(client) {
  const authorize = `${BASE}/oauth/authorize?client_id=${CLIENT_ID}&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=crm.objects.deals.read&state=s1`;
  // The consent page: a plain form; pick a user and press Allow, as a browser would.
  const page = await fetch(authorize);
  assert.equal(page.status, 200);
  const html = await page.text();
  const request = /name="request" value="([^"]+)"/.exec(html)[1];
  const user = /name="user" id="user-0" value="([^"]+)"/.exec(html)[1];
  assert.ok(html.includes('id="approve">Allow</button>'), 'consent page has the Allow button');
  const res = await fetch(`${BASE}/oauth/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, user, decision: 'allow' }).toString(),
  });
  assert.equal(res.status, 302);
  const code = new URL(res.headers.get('location')).searchParams.get('code');
  assert.ok(code, 'authorize redirect carries a code');
  const tokens = await client.oauth.tokensApi.create('authorization_code', code, REDIRECT, CLIENT_ID, CLIENT_SECRET);
  assert.equal(tokens.expiresIn, 1800);
  const refreshed = await client.oauth.tokensApi.create('refresh_token', undefined, undefined, CLIENT_ID, CLIENT_SECRET, tokens.refreshToken);
  assert.ok(refreshed.accessToken && refreshed.accessToken !== tokens.accessToken);
  step('OAuth consent page, code exchange and refresh');
  return refreshed.accessToken;
}

async function listsAndSearches(client) {
  const first = await client.crm.deals.basicApi.getPage(4, undefined, ['dealname', 'dealstage']);
  assert.equal(first.results.length, 4);
  assert.ok(first.paging && first.paging.next && first.paging.next.after, 'first page has paging.next.after');
  const all = await client.crm.deals.getAll(3, undefined, ['dealname']);
  assert.equal(all.length, 9);
  assert.equal(new Set(all.map((d) => d.id)).size, 9);
  step('list with paging (getPage and getAll)');

  const found = await client.crm.deals.searchApi.doSearch({
    filterGroups: [{ filters: [{ propertyName: 'dealstage', operator: 'EQ', value: 'closedwon' }] }],
    sorts: [{ propertyName: 'amount', direction: 'DESCENDING' }],
    properties: ['dealname', 'amount', 'onboarding_status'],
    limit: 2,
    after: '0',
  });
  assert.equal(found.total, 3);
  assert.equal(found.results[0].properties.amount, '125000');
  assert.equal(found.paging.next.after, '2');
  step('search with filters, sort and paging');

  const props = await client.crm.properties.coreApi.getAll('deals');
  const status = props.results.find((p) => p.name === 'onboarding_status');
  assert.ok(status && status.options.some((o) => o.value === 'completed'));
  step('property catalog with enumeration options');
}

async function writes(client) {
  const created = await client.crm.deals.basicApi.create({
    properties: { dealname: 'Proof deal', amount: '999', dealstage: 'closedwon', product_line: 'core' },
    associations: [{ to: { id: '1000000001' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }] }],
  });
  assert.equal(created.properties.dealname, 'Proof deal');
  const updated = await client.crm.deals.basicApi.update(created.id, { properties: { onboarding_status: 'in_progress', onboarding_progress: '10' } });
  assert.equal(updated.properties.onboarding_status, 'in_progress');
  const batch = await client.crm.deals.batchApi.update({ inputs: [{ id: created.id, properties: { onboarding_progress: '20' } }, { id: '3000000001', properties: { onboarding_progress: '50' } }] });
  assert.equal(batch.status, 'COMPLETE');
  assert.equal(batch.results.length, 2);
  const read = await client.crm.deals.basicApi.getById(created.id, ['onboarding_progress']);
  assert.equal(read.properties.onboarding_progress, '20');
  step('create, update and batch update deals');
  try {
    await client.crm.deals.basicApi.create({ properties: { no_such_property: 'x' } });
    assert.fail('unknown property accepted');
  } catch (e) {
    assert.equal(e.code, 400);
  }
  step('unknown property rejected with 400');
  return created.id;
}

async function associations(client, dealId) {
  const page = await client.crm.associations.v4.basicApi.getPage('deals', '3000000001', 'contacts');
  const nora = page.results.find((r) => String(r.toObjectId) === '1000000001');
  assert.ok(nora.associationTypes.some((t) => t.label === 'Decision maker' && t.category === 'USER_DEFINED'));
  const labelled = await client.crm.associations.v4.basicApi.create('deals', dealId, 'contacts', '1000000002', [{ associationCategory: 'USER_DEFINED', associationTypeId: 103 }]);
  assert.deepEqual(labelled.labels, ['Technical contact']);
  const batch = await client.crm.associations.v4.batchApi.getPage('deals', 'contacts', { inputs: [{ id: dealId }] });
  const tech = batch.results[0].to.find((t) => String(t.toObjectId) === '1000000002');
  assert.ok(tech.associationTypes.some((t) => t.label === 'Technical contact'));
  step('associations v4 with labels (list, create, batch read)');
}

async function tasksAndNotes(client, dealId) {
  const task = await client.crm.objects.tasks.basicApi.create({
    properties: { hs_task_subject: 'Kickoff', hs_task_status: 'NOT_STARTED', hs_task_priority: 'HIGH', hs_timestamp: '2026-12-01T10:00:00.000Z' },
    associations: [{ to: { id: dealId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 216 }] }],
  });
  assert.equal(task.properties.hs_task_subject, 'Kickoff');
  const note = await client.crm.objects.notes.basicApi.create({
    properties: { hs_note_body: 'Proof note', hs_timestamp: String(Date.now()) },
    associations: [{ to: { id: dealId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 214 }] }],
  });
  assert.ok(note.id);
  const linked = await client.crm.associations.v4.basicApi.getPage('deals', dealId, 'notes');
  assert.equal(String(linked.results[0].toObjectId), note.id);
  step('tasks and notes with associations');
}

async function webhook(until, dealId) {
  const d = await until((x) => JSON.parse(x.body).some((e) => e.subscriptionType === 'deal.creation' && String(e.objectId) === dealId), 10000);
  const v3 = Signature.isValid({
    signatureVersion: 'v3',
    method: 'POST',
    signature: d.headers['x-hubspot-signature-v3'],
    clientSecret: CLIENT_SECRET,
    requestBody: d.body,
    url: d.url,
    timestamp: Number(d.headers['x-hubspot-request-timestamp']),
  });
  assert.equal(v3, true, 'v3 signature verifies with Signature.isValid');
  const v1 = Signature.isValid({ signatureVersion: 'v1', signature: d.headers['x-hubspot-signature'], clientSecret: CLIENT_SECRET, requestBody: d.body });
  assert.equal(v1, true, 'v1 signature verifies');
  step('webhook delivered and verified with Signature.isValid (v3 and v1)');
}

async function main() {
  const receiver = WEBHOOK_PORT ? await webhookReceiver(WEBHOOK_PORT) : null;
  try {
    const client = new hubspot.Client({ basePath: BASE });
    client.setAccessToken(await oauthTokens(client));
    await listsAndSearches(client);
    const dealId = await writes(client);
    await associations(client, dealId);
    await tasksAndNotes(client, dealId);
    const pat = new hubspot.Client({ basePath: BASE, accessToken: 'pat-sandbox-handoff' });
    const one = await pat.crm.contacts.basicApi.getById('1000000001', ['email']);
    assert.equal(one.properties.email, 'nora.okafor@northwind.example.com');
    step('private-app token');
    if (receiver) await webhook(receiver.until, dealId);
    console.log('all checks passed');
  } finally {
    if (receiver) receiver.server.close();
  }
}

main().catch((e) => {
  console.error('not ok -', e && e.stack ? e.stack : e);
  if (e && e.body) console.error('body:', JSON.stringify(e.body));
  process.exit(1);
});
