// Drives the plugin's REST API with @c8y/client (Cumulocity's own JavaScript client) and plays
// the device with MQTT.js: create a device and its c8y_Serial, send a measurement over MQTT,
// read it back (also as a chart series, raw and hourly), create a c8y_Restart operation, let the
// device run it to SUCCESSFUL and read its history from the audit log.
//
// Environment: C8Y_BASE_URL (http[s]://127.0.0.1:<rest port>), C8Y_MQTT_URL
// (mqtt|mqtts|ws|wss://127.0.0.1:<port>), C8Y_CA_FILE (the CA of the broker's TLS certificate, for
// mqtts/wss; for https Node takes it from NODE_EXTRA_CA_CERTS).
// Exit code 0 on success; on failure the reason goes to stderr and the exit code is 1.
// Run by tests/integration/test_c8y_client.py against a broker started by the pytest harness.
import { BasicAuth, Client } from '@c8y/client';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';

const OVERALL_TIMEOUT_MS = 45000;
const OPERATION_TIMEOUT_MS = 10000;
const TENANT = 't1';
const ADMIN = { tenant: TENANT, user: 'admin', password: 't1-admin-pass' };
const DEVICE_USER = `${TENANT}/device_a`;
const DEVICE_PASSWORD = 't1-device-pass';
const SERIAL = `js-c8y-client-${process.pid}`;
const DEVICE_TYPE = 'c8y_JsClientTest';

let device = null; // the MQTT.js client, closed on exit

function log(msg) {
  process.stdout.write(`[c8y-client-test] ${msg}\n`);
}

// Errors thrown by @c8y/client are plain objects {res, data}; make them readable.
function describe(err) {
  if (err && err.res && typeof err.res.status === 'number') {
    const body = typeof err.data === 'string' ? err.data : JSON.stringify(err.data);
    return `HTTP ${err.res.status} from ${err.res.url}: ${body}`;
  }
  if (err instanceof Error) return err.stack || err.message;
  return JSON.stringify(err);
}

function fail(reason) {
  process.stderr.write(`[c8y-client-test] FAILED: ${reason}\n`);
  try {
    if (device) device.end(true);
  } catch {
    // exiting anyway
  }
  process.exit(1);
}

function check(cond, reason) {
  if (!cond) throw new Error(reason);
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

function loopbackUrl(name, protocols) {
  const raw = process.env[name];
  if (!raw) fail(`environment variable ${name} is not set`);
  let url;
  try {
    url = new URL(raw);
  } catch {
    fail(`${name} is not a URL: ${raw}`);
  }
  if (!protocols.includes(url.protocol) || url.hostname !== '127.0.0.1' || !url.port) {
    fail(`${name} must be ${protocols.join('|')}//127.0.0.1:<port>, got ${raw}`);
  }
  return raw.replace(/\/+$/, '');
}

async function main() {
  const baseUrl = loopbackUrl('C8Y_BASE_URL', ['http:', 'https:']);
  const mqttUrl = loopbackUrl('C8Y_MQTT_URL', ['mqtt:', 'mqtts:', 'ws:', 'wss:']);
  const tls = {};
  if (process.env.C8Y_CA_FILE) {
    tls.ca = readFileSync(process.env.C8Y_CA_FILE);
    tls.rejectUnauthorized = true;
  }

  // --- REST client ---------------------------------------------------------------------------
  // new Client(...) does not contact the server; GET /tenant/currentTenant verifies the
  // credentials (that is what Client.authenticate does internally).
  const client = new Client(new BasicAuth(ADMIN), baseUrl);
  const { data: tenant } = await client.tenant.current();
  check(tenant && tenant.name === TENANT, `tenant.current(): expected name '${TENANT}', got ${JSON.stringify(tenant)}`);
  client.core.tenant = tenant.name;
  log(`authenticated as ${TENANT}/admin on tenant '${tenant.name}'`);

  // Devices before: our serial must not exist yet.
  const before = await client.inventory.list({ fragmentType: 'c8y_IsDevice', pageSize: 100 });
  check(Array.isArray(before.data), `inventory.list(fragmentType): no managedObjects array: ${JSON.stringify(before.data)}`);
  check(before.data.every(mo => 'c8y_IsDevice' in mo), 'inventory.list(fragmentType=c8y_IsDevice) returned a non-device');
  check(!before.data.some(mo => mo.name === SERIAL), `device ${SERIAL} exists before the test created it`);
  log(`inventory.list(fragmentType=c8y_IsDevice): ${before.data.length} device(s) before`);

  // Create the device and its external id.
  const created = await client.inventory.create({
    name: SERIAL,
    type: DEVICE_TYPE,
    c8y_IsDevice: {},
    com_cumulocity_model_Agent: {},
  });
  check(created.res.status === 201, `inventory.create: expected HTTP 201, got ${created.res.status}`);
  const deviceId = created.data && created.data.id;
  check(typeof deviceId === 'string' && deviceId.length > 0, `inventory.create: no id in ${JSON.stringify(created.data)}`);
  log(`inventory.create: device ${deviceId}`);

  const ext = await client.identity.create({ type: 'c8y_Serial', externalId: SERIAL, managedObject: { id: deviceId } });
  check(ext.res.status === 201, `identity.create: expected HTTP 201, got ${ext.res.status}`);
  const { data: found } = await client.identity.detail({ type: 'c8y_Serial', externalId: SERIAL });
  check(found.managedObject && found.managedObject.id === deviceId,
    `identity.detail(c8y_Serial/${SERIAL}): expected managedObject.id ${deviceId}, got ${JSON.stringify(found)}`);
  const { data: extIds } = await client.identity.list(deviceId);
  check(Array.isArray(extIds) && extIds.some(e => e.type === 'c8y_Serial' && e.externalId === SERIAL),
    `identity.list(${deviceId}): c8y_Serial ${SERIAL} missing in ${JSON.stringify(extIds)}`);
  log(`identity: c8y_Serial ${SERIAL} -> ${deviceId}`);

  // Devices after: found by fragment and by type.
  const after = await client.inventory.list({ fragmentType: 'c8y_IsDevice', pageSize: 100 });
  check(after.data.some(mo => mo.id === deviceId), `inventory.list(fragmentType=c8y_IsDevice) does not contain ${deviceId}`);
  const byType = await client.inventory.list({ type: DEVICE_TYPE, pageSize: 100 });
  check(byType.data.length === 1 && byType.data[0].id === deviceId,
    `inventory.list(type=${DEVICE_TYPE}): expected exactly [${deviceId}], got ${JSON.stringify(byType.data.map(mo => mo.id))}`);

  // --- MQTT device -----------------------------------------------------------------------------
  const received = []; // [topic, payload]
  const errors = []; // s/e lines
  let sawRestart = false;
  let answerError = null;
  device = await mqtt.connectAsync(mqttUrl, {
    clientId: SERIAL,
    username: DEVICE_USER,
    password: DEVICE_PASSWORD,
    clean: true,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    keepalive: 30,
    ...tls,
  });
  device.on('error', err => fail(`MQTT error: ${describe(err)}`));
  device.on('message', (topic, payload) => {
    const line = payload.toString();
    received.push([topic, line]);
    if (topic === 's/e') {
      errors.push(line);
    } else if (topic === 's/ds' && line === `510,${SERIAL}` && !sawRestart) {
      sawRestart = true;
      (async () => {
        await device.publishAsync('s/us', '501,c8y_Restart', { qos: 1 });
        await device.publishAsync('s/us', '503,c8y_Restart', { qos: 1 });
      })().catch(err => {
        answerError = err;
      });
    }
  });
  const granted = await device.subscribeAsync({ 's/ds': { qos: 1 }, 's/e': { qos: 0 } });
  const grants = Object.fromEntries(granted.map(g => [g.topic, g.qos]));
  check(grants['s/ds'] === 1 && grants['s/e'] === 0, `SUBACK: unexpected grants ${JSON.stringify(granted)}`);
  log(`MQTT device ${SERIAL} connected to ${mqttUrl} as ${DEVICE_USER}, subscribed to s/ds and s/e`);

  await device.publishAsync('s/us', '211,21.5', { qos: 1 });
  log('published 211,21.5 on s/us (QoS 1, acknowledged)');

  // The MQTT data must land on the device created through REST (found by its c8y_Serial).
  const { data: stillSame } = await client.identity.detail({ type: 'c8y_Serial', externalId: SERIAL });
  check(stillSame.managedObject.id === deviceId,
    `after MQTT data c8y_Serial ${SERIAL} points to ${stillSame.managedObject.id}, not ${deviceId}`);
  const devices = await client.inventory.list({ fragmentType: 'c8y_IsDevice', pageSize: 100 });
  check(devices.data.filter(mo => mo.name === SERIAL).length === 1,
    `expected one device named ${SERIAL}, got ${devices.data.filter(mo => mo.name === SERIAL).length}`);

  // --- measurement ----------------------------------------------------------------------------
  // An acknowledged measurement is visible to the next query (README, Durability).
  const meas = await client.measurement.list({ source: deviceId, pageSize: 10, revert: true });
  check(Array.isArray(meas.data) && meas.data.length === 1,
    `measurement.list(source=${deviceId}): expected 1 measurement, got ${JSON.stringify(meas.data)}`);
  const m = meas.data[0];
  check(m.source && m.source.id === deviceId, `measurement source ${JSON.stringify(m.source)} is not ${deviceId}`);
  const t = m.c8y_TemperatureMeasurement && m.c8y_TemperatureMeasurement.T;
  check(t && t.value === 21.5 && t.unit === 'C',
    `measurement: expected c8y_TemperatureMeasurement.T {value 21.5, unit C}, got ${JSON.stringify(m)}`);
  log(`measurement.list(source=${deviceId}): c8y_TemperatureMeasurement.T = ${t.value} ${t.unit}`);

  // --- supported measurements and series (from what the device sent) ---------------------------
  const supported = await client.inventory.getSupportedMeasurements(deviceId);
  check(JSON.stringify(supported) === JSON.stringify(['c8y_TemperatureMeasurement']),
    `getSupportedMeasurements(${deviceId}): expected ['c8y_TemperatureMeasurement'], got ${JSON.stringify(supported)}`);
  const series = await client.inventory.getSupportedSeries(deviceId);
  check(JSON.stringify(series) === JSON.stringify(['c8y_TemperatureMeasurement.T']),
    `getSupportedSeries(${deviceId}): expected ['c8y_TemperatureMeasurement.T'], got ${JSON.stringify(series)}`);
  log(`getSupportedMeasurements/getSupportedSeries(${deviceId}): ${supported} / ${series}`);

  // --- inventory query language ---------------------------------------------------------------
  // QueriesUtil turns this into "$filter=((name eq '<serial>-q-*') and (rank gt 1f)) $orderby=name desc".
  const queried = {};
  for (const [suffix, rank] of [['b', 2], ['a', 1], ['c', 3], ['d', 4]]) {
    const { data } = await client.inventory.create({ name: `${SERIAL}-q-${suffix}`, type: 'c8y_JsQuery', rank });
    queried[suffix] = data.id;
  }
  const query = {
    __filter: { name: `${SERIAL}-q-*`, rank: { __gt: 1 }, __not: { rank: 4 } },
    __orderby: [{ name: -1 }],
  };
  const listed = await client.inventory.listQuery(query, { pageSize: 10, withTotalPages: true });
  check(JSON.stringify(listed.data.map(mo => mo.id)) === JSON.stringify([queried.c, queried.b]),
    `inventory.listQuery(${JSON.stringify(query)}): expected [${queried.c}, ${queried.b}], got ` +
    `${JSON.stringify(listed.data.map(mo => [mo.id, mo.name]))}`);
  check(listed.paging && listed.paging.totalPages === 1,
    `inventory.listQuery: expected totalPages 1, got ${JSON.stringify(listed.paging && listed.paging.totalPages)}`);
  const byOrder = await client.inventory.listQuery({ __filter: { type: 'c8y_JsQuery' }, __orderby: [{ rank: 1 }] },
    { pageSize: 2 });
  check(JSON.stringify(byOrder.data.map(mo => mo.id)) === JSON.stringify([queried.a, queried.b]),
    `inventory.listQuery(type, orderby rank): expected [${queried.a}, ${queried.b}], got ${JSON.stringify(byOrder.data.map(mo => mo.id))}`);
  const devicesOnly = await client.inventory.listQueryDevices({ name: `${SERIAL}*` }, { pageSize: 10 });
  check(JSON.stringify(devicesOnly.data.map(mo => mo.id)) === JSON.stringify([deviceId]),
    `inventory.listQueryDevices(name ${SERIAL}*): expected [${deviceId}], got ${JSON.stringify(devicesOnly.data.map(mo => mo.id))}`);
  let refused = null;
  try {
    await client.inventory.listQuery({ __isinhierarchyof: deviceId });
  } catch (err) {
    refused = err;
  }
  check(refused && refused.res && refused.res.status === 400 && /isinhierarchyof/.test(JSON.stringify(refused.data)),
    `inventory.listQuery(__isinhierarchyof): expected HTTP 400 naming the function, got ${refused ? describe(refused) : 'success'}`);
  log(`inventory.listQuery: $filter + $orderby -> [${listed.data.map(mo => mo.name)}]`);

  // --- child assets (a device group holding the device) ---------------------------------------
  const { data: group } = await client.inventory.create({ name: `${SERIAL}-group`, type: 'c8y_DeviceGroup', c8y_IsDeviceGroup: {} });
  const added = await client.inventory.childAssetsAdd(deviceId, group.id);
  check(added.res.status === 201 && added.data && added.data.id === deviceId,
    `childAssetsAdd(${deviceId}, ${group.id}): expected 201 with managedObject ${deviceId}, got ${added.res.status} ${JSON.stringify(added.data)}`);
  const assets = await client.inventory.childAssetsList(group.id);
  check(JSON.stringify(assets.data.map(mo => mo.id)) === JSON.stringify([deviceId]),
    `childAssetsList(${group.id}): expected [${deviceId}], got ${JSON.stringify(assets.data)}`);
  const inGroup = await client.inventory.listQuery({ __bygroupid: group.id }, { pageSize: 10 });
  check(JSON.stringify(inGroup.data.map(mo => mo.id)) === JSON.stringify([deviceId]),
    `listQuery(bygroupid(${group.id})): expected [${deviceId}], got ${JSON.stringify(inGroup.data.map(mo => mo.id))}`);
  const removed = await client.inventory.childAssetsRemove(deviceId, group.id);
  check(removed.res.status === 204, `childAssetsRemove: expected HTTP 204, got ${removed.res.status}`);
  const assetsAfter = await client.inventory.childAssetsList(group.id);
  check(assetsAfter.data.length === 0, `childAssetsList after remove: expected [], got ${JSON.stringify(assetsAfter.data)}`);
  const { data: deviceAfter } = await client.inventory.detail(deviceId);
  check(deviceAfter.assetParents && deviceAfter.assetParents.references.length === 0,
    `device ${deviceId} still lists an asset parent: ${JSON.stringify(deviceAfter.assetParents)}`);
  log(`childAssetsAdd/List/Remove on group ${group.id}: ok`);

  // --- applications (none are hosted here) ----------------------------------------------------
  const apps = await client.application.list({ pageSize: 10 });
  check(apps.res.status === 200 && Array.isArray(apps.data) && apps.data.length === 0,
    `application.list: expected HTTP 200 and [], got ${apps.res.status} ${JSON.stringify(apps.data)}`);
  log('application.list: []');

  // --- measurement series (what charts call) -----------------------------------------------------
  // Three values on a past day, two in the 10:00 hour and one in the 11:00 hour.
  await device.publishAsync('s/us',
    '211,10,2024-05-01T10:00:00Z\n211,14,2024-05-01T10:20:00Z\n211,12,2024-05-01T11:05:00Z', { qos: 1 });
  const seriesFilter = {
    source: deviceId,
    dateFrom: '2024-05-01T00:00:00.000Z',
    dateTo: '2024-05-02T00:00:00.000Z',
    series: ['c8y_TemperatureMeasurement.T'],
  };
  const { data: raw } = await client.measurement.listSeries(seriesFilter);
  const gotSeries = (raw.series || []).map(s => `${s.type}.${s.name} [${s.unit}]`);
  check(JSON.stringify(gotSeries) === JSON.stringify(['c8y_TemperatureMeasurement.T [C]']),
    `measurement.listSeries: expected series c8y_TemperatureMeasurement.T in C, got ${JSON.stringify(raw.series)}`);
  const rawValues = Object.entries(raw.values).map(([time, slots]) => [Date.parse(time), slots[0].min, slots[0].max]);
  const expectedRaw = [
    [Date.parse('2024-05-01T10:00:00Z'), 10, 10],
    [Date.parse('2024-05-01T10:20:00Z'), 14, 14],
    [Date.parse('2024-05-01T11:05:00Z'), 12, 12],
  ];
  check(raw.truncated === false && JSON.stringify(rawValues) === JSON.stringify(expectedRaw),
    `measurement.listSeries (no aggregation): expected ${JSON.stringify(expectedRaw)}, got ${JSON.stringify(raw)}`);
  const { data: hourly } = await client.measurement.listSeries({ ...seriesFilter, aggregationType: 'HOURLY' });
  const hourlyValues = Object.entries(hourly.values).map(([time, slots]) => [Date.parse(time), slots[0].min, slots[0].max]);
  const expectedHourly = [
    [Date.parse('2024-05-01T10:00:00Z'), 10, 14],
    [Date.parse('2024-05-01T11:00:00Z'), 12, 12],
  ];
  check(JSON.stringify(hourlyValues) === JSON.stringify(expectedHourly),
    `measurement.listSeries (HOURLY): expected ${JSON.stringify(expectedHourly)}, got ${JSON.stringify(hourly)}`);
  log(`measurement.listSeries: ${rawValues.length} raw values, ${hourlyValues.length} hourly buckets`);

  // --- operation --------------------------------------------------------------------------------
  const opRes = await client.operation.create({
    deviceId,
    c8y_Restart: {},
    description: 'Restart via @c8y/client',
  });
  check(opRes.res.status === 201, `operation.create: expected HTTP 201, got ${opRes.res.status}`);
  const opId = opRes.data && opRes.data.id;
  check(opId && opRes.data.status === 'PENDING',
    `operation.create: expected a PENDING operation with an id, got ${JSON.stringify(opRes.data)}`);
  log(`operation.create: ${opId} PENDING`);

  const deadline = Date.now() + OPERATION_TIMEOUT_MS;
  let op = null;
  const seen = [];
  for (;;) {
    if (answerError) fail(`publishing 501/503 failed: ${describe(answerError)}`);
    ({ data: op } = await client.operation.detail(opId));
    if (seen[seen.length - 1] !== op.status) seen.push(op.status);
    if (op.status === 'SUCCESSFUL') break;
    if (op.status === 'FAILED') fail(`operation ${opId} FAILED: ${JSON.stringify(op)}`);
    if (Date.now() > deadline) {
      fail(`operation ${opId} not SUCCESSFUL within ${OPERATION_TIMEOUT_MS} ms (statuses seen: ${seen.join(' -> ')}; ` +
        `510 received: ${sawRestart}; MQTT messages: ${JSON.stringify(received)})`);
    }
    await sleep(100);
  }
  check(sawRestart, 'operation SUCCESSFUL although the device never received 510');
  check(op.description === 'Restart via @c8y/client' && op.deviceId === deviceId,
    `operation.detail: unexpected body ${JSON.stringify(op)}`);
  log(`operation ${opId}: ${seen.join(' -> ')}`);

  const done = await client.operation.list({ deviceId, status: 'SUCCESSFUL', pageSize: 10 });
  check(done.data.length === 1 && done.data[0].id === opId,
    `operation.list(deviceId, status=SUCCESSFUL): expected [${opId}], got ${JSON.stringify(done.data.map(o => o.id))}`);

  // --- audit ------------------------------------------------------------------------------------
  // The operation's history: created by the admin through REST, then the device's status changes.
  const { data: history } = await client.audit.list({ source: opId, pageSize: 100 });
  const steps = history.map(r => `${r.type}/${r.activity}/${r.user}`);
  const expectedSteps = [
    'Operation/Operation created/admin',
    'Operation/Operation updated/device_a',
    'Operation/Operation updated/device_a',
  ];
  check(JSON.stringify(steps) === JSON.stringify(expectedSteps),
    `audit.list(source=${opId}): expected ${JSON.stringify(expectedSteps)}, got ${JSON.stringify(history)}`);
  check(history.every(r => r.source && r.source.id === opId),
    `audit.list(source=${opId}): a record of another source: ${JSON.stringify(history)}`);
  const statuses = history.slice(1).map(r => r.changes.map(c => `${c.previousValue}->${c.newValue}`).join());
  check(JSON.stringify(statuses) === JSON.stringify(['PENDING->EXECUTING', 'EXECUTING->SUCCESSFUL']),
    `audit.list: unexpected status changes ${JSON.stringify(statuses)}`);
  const { data: createdRecord } = await client.audit.detail(history[0].id);
  check(createdRecord.id === history[0].id && createdRecord.activity === 'Operation created',
    `audit.detail(${history[0].id}): got ${JSON.stringify(createdRecord)}`);
  const { data: operationRecords } = await client.audit.list({ type: 'Operation', pageSize: 100 });
  check(operationRecords.some(r => r.id === createdRecord.id),
    `audit.list(type=Operation) does not contain ${createdRecord.id}`);
  log(`audit.list(source=${opId}): ${steps.join(', ')}`);

  const dsLines = received.filter(([topic]) => topic === 's/ds').map(([, line]) => line);
  check(dsLines.length === 1 && dsLines[0] === `510,${SERIAL}`, `s/ds: expected exactly ['510,${SERIAL}'], got ${JSON.stringify(dsLines)}`);
  check(errors.length === 0, `device received error lines on s/e: ${JSON.stringify(errors)}`);

  await device.endAsync();
  device = null;
  log('OK');
}

const overall = setTimeout(() => fail(`overall timeout of ${OVERALL_TIMEOUT_MS} ms exceeded`), OVERALL_TIMEOUT_MS);

main().then(
  () => {
    clearTimeout(overall);
    process.exit(0);
  },
  err => fail(describe(err)),
);
