// The latest `openai` Node SDK, unmodified, against a live ftemu with a manual clock: the modern lifecycle.
// Usage: node lifecycle.mjs BASE_URL CONTROL_URL; prints one JSON object of what it saw.
import OpenAI, { toFile } from "openai";

const [baseURL, controlURL] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "sk-node-0123456789", maxRetries: 0 });
const MODEL = "gpt-4o-mini-2024-07-18";

const advance = async (seconds) => {
  const response = await fetch(`${controlURL}/clock/advance`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ seconds }),
  });
  if (!response.ok) throw new Error(`advance: ${response.status}`);
};

const chat = (count) =>
  Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      messages: [
        { role: "user", content: `What is ${i} plus one?` },
        { role: "assistant", content: `${i + 1}, obviously.` },
      ],
    }),
  ).join("\n") + "\n";

const upload = async (count) =>
  (await client.files.create({ file: await toFile(Buffer.from(chat(count)), "train.jsonl"), purpose: "fine-tune" })).id;

const follow = async (id) => {
  const statuses = [];
  for (let i = 0; i < 400; i++) {
    const job = await client.fineTuning.jobs.retrieve(id);
    if (statuses.at(-1) !== job.status) statuses.push(job.status);
    if (["succeeded", "failed", "cancelled"].includes(job.status)) return { job, statuses };
    await advance(5);
  }
  throw new Error(`${id} never finished`);
};

const all = async (page) => {
  const items = [];
  for await (const item of page) items.push(item);
  return items;
};

const fileId = await upload(12);
const created = await client.fineTuning.jobs.create({ model: MODEL, training_file: fileId, suffix: "node" });
const { job: done, statuses } = await follow(created.id);
const events = await all(client.fineTuning.jobs.listEvents(created.id, { limit: 7 }));
const checkpoints = await all(client.fineTuning.jobs.checkpoints.list(created.id));
const models = (await all(client.models.list())).map((m) => m.id);
const again = await client.fineTuning.jobs.create({ model: done.fine_tuned_model, training_file: fileId });
const continued = (await follow(again.id)).job;
const deleted = await client.models.delete(done.fine_tuned_model);
let missing = null;
try {
  await client.models.retrieve(done.fine_tuned_model);
} catch (error) {
  missing = error.status;
}

const seven = (await follow((await client.fineTuning.jobs.create({ model: MODEL, training_file: await upload(7) })).id)).job;
const dpo = (
  await follow((await client.fineTuning.jobs.create({ model: MODEL, training_file: fileId, method: { type: "dpo" } })).id)
).job;
const cancelled = await client.fineTuning.jobs.cancel((await client.fineTuning.jobs.create({ model: MODEL, training_file: fileId })).id);

const held = await client.fineTuning.jobs.create({ model: MODEL, training_file: fileId });
while ((await client.fineTuning.jobs.retrieve(held.id)).status !== "running") await advance(0.25);
const paused = await client.fineTuning.jobs.pause(held.id);
await advance(10000);
const stillPaused = (await client.fineTuning.jobs.retrieve(held.id)).status;
const resumed = await client.fineTuning.jobs.resume(held.id);
const finished = (await follow(held.id)).job;

console.log(
  JSON.stringify({
    created: created.status,
    statuses,
    model: done.fine_tuned_model,
    events: events.map((e) => e.message).reverse(),
    eventIds: events.map((e) => e.id),
    checkpoints: checkpoints.map((c) => c.step_number),
    listed: models.includes(done.fine_tuned_model),
    continued: [continued.status, continued.fine_tuned_model],
    deleted: deleted.deleted,
    missing,
    seven: seven.error,
    dpo: dpo.error,
    cancelled: cancelled.status,
    pause: [paused.status, stillPaused, resumed.status, finished.status],
    fileId,
    jobId: created.id,
  }),
);
