// Prints known-answer signature vectors from @hubspot/api-client's own helper, for the Rust tests
// (src/webhooks/sign.rs). Run: node vectors.js
const { Signature } = require('@hubspot/api-client/lib/src/utils/signature');

const clientSecret = 'handoff-sandbox-secret';
const requestBody = '[{"eventId":1,"subscriptionType":"deal.creation","objectId":3000000001}]';
const url = 'https://hooks.example.com/hubspot?portal=2026001';
const timestamp = 1767603600000;
for (const version of ['v1', 'v2', 'v3']) {
  console.log(version, Signature.getSignature('POST', version, { clientSecret, requestBody, url, timestamp }));
}
