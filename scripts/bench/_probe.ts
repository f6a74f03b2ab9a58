import { connectMongo } from '../../activities/engine/db';
const a = await connectMongo('mongodb://127.0.0.1:27018/moisson_probe');
const coll = a.db.collection('p');
await coll.drop().catch(() => undefined);
await coll.createIndex({ asset_code: 1, date: 1 }, { unique: true });
await coll.createIndex({ date: 1 });
const time = async (label: string, n: number, f: (i: number) => Promise<unknown>) => {
  const t = performance.now();
  for (let i = 0; i < n; i++) await f(i);
  const ms = performance.now() - t;
  console.log(label, (ms / n).toFixed(2), 'ms/op');
};
await time('insertOne empty', 50, (i) => coll.insertOne({ asset_code: `Z${i}`, date: '2000-01-01', x: i }));
await time('findOne eq small', 50, (i) => coll.findOne({ asset_code: `Z${i}`, date: '2000-01-01' }));
await time('updateOne upsert small', 50, (i) => coll.updateOne({ asset_code: `Y${i}`, date: '2000-01-01' }, { $set: { x: i } }, { upsert: true }));
for (const size of [5000, 20000]) {
  const ops = [];
  const have = await coll.countDocuments();
  for (let i = have; i < size; i++) ops.push({ insertOne: { document: { asset_code: `B${i % 100}`, date: `d${Math.floor(i / 100)}`, x: i, price_mru: '1.00000000', source: 'erapi', ts: new Date() } } });
  let t = performance.now();
  await coll.bulkWrite(ops, { ordered: false });
  console.log('bulk insert', ops.length, ((performance.now() - t) / ops.length * 1000).toFixed(1), 'us/doc');
  await time(`findOne eq n=${size}`, 20, (i) => coll.findOne({ asset_code: `Q${i}`, date: '2000-01-01' }));
  await time(`find range 100 n=${size}`, 5, () => coll.find({ date: { $gte: 'd1', $lt: 'd2' } }).toArray());
  await time(`updateOne upsert n=${size}`, 20, (i) => coll.updateOne({ asset_code: `W${i}`, date: '2000-01-01' }, { $set: { x: i } }, { upsert: true }));
  await time(`countDocuments n=${size}`, 3, () => coll.countDocuments());
  await time(`find all n=${size}`, 1, () => coll.find({}).toArray());
}
await a.db.dropDatabase();
await a.close();
