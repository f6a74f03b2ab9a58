import { connectMongo } from '../../activities/engine/db';
const a = await connectMongo(process.env.MONGO_URL!);
const coll = a.db.collection<Record<string, unknown>>('p');
await coll.createIndex({ asset_code: 1, date: 1 }, { unique: true });
const N = 20000;
const ops = [];
for (let i = 0; i < N; i++) ops.push({ insertOne: { document: { _id: `d${String(Math.floor(i / 100)).padStart(4, '0')}|B${i % 100}`, asset_code: `B${i % 100}`, date: `d${String(Math.floor(i / 100)).padStart(4, '0')}`, x: i, price_mru: '123.45678900', source: 'erapi', ts: new Date() } } });
await coll.bulkWrite(ops as never, { ordered: false });
const ss = await a.db.admin().command({ serverStatus: 1 }).catch((e) => ({ err: String(e) }));
console.log('serverStatus keys', Object.keys(ss), JSON.stringify((ss as Record<string, unknown>).ferretdb ?? {}).slice(0, 300));
const ids = Array.from({ length: 500 }, (_, i) => `d0100|B${i % 100}`.replace('0100', String(100 + Math.floor(i / 100)).padStart(4, '0')));
for (const [label, filter, opts] of [
  ['_id eq', { _id: 'd0100|B5' }, {}],
  ['_id $in 500', { _id: { $in: ids } }, {}],
  ['_id range', { _id: { $gte: 'd0100', $lt: 'd0105' } }, {}],
  ['date range', { date: { $gte: 'd0100', $lt: 'd0105' } }, {}],
  ['all sorted by _id', {}, { sort: { _id: 1 } }],
  ['all sorted date,asset', {}, { sort: { date: 1, asset_code: 1 } }],
  ['all', {}, {}],
] as const) {
  const ex = await a.db.command({ explain: { find: 'p', filter, ...(opts as object) } });
  const t = performance.now();
  const n = (await coll.find(filter as never, opts as never).toArray()).length;
  console.log(label.padEnd(24), 'filterPushdown', ex.filterPushdown, 'sortPushdown', ex.sortPushdown, JSON.stringify(ex.queryPlanner), n, (performance.now() - t).toFixed(0), 'ms');
}
let t = performance.now();
await coll.deleteMany({ _id: { $in: ids } } as never);
console.log('deleteMany _id $in 500', (performance.now() - t).toFixed(0), 'ms');
t = performance.now();
await coll.countDocuments({ date: { $gte: 'd0100', $lt: 'd0105' } });
console.log('count range', (performance.now() - t).toFixed(0), 'ms');
await a.db.dropDatabase();
await a.close();
