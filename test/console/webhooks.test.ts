/**
 * The console's Webhooks page end to end: a webhook is created in the console (its secret shown
 * once and copied), chosen as the post-call webhook, and a text session of the official client
 * ends; the delivery arrives at a local receiver and shows in the log with its attempts;
 * "Redeliver" sends it again and the log shows the new attempt. A receiver answering 500 shows as
 * a failed delivery with its status. Endpoints can be edited, disabled and deleted. The page
 * passes axe in light and dark at both widths.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeChromium, launchChromium } from "../browser/support/chromium.js";
import { eventually } from "../runtime/eventually.js";
import { startTextSession } from "../runtime/text-session.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";
import {
  type ConsoleServer,
  DESKTOP,
  expectAccessible,
  newConsolePage,
  PHONE,
  screenshot,
  signIn,
  startConsoleServer,
} from "./support/console-harness.js";

/** Quick retries (two attempts, 200 ms apart) and a fast poll, so a failure is final within a second. */
const ENV = {
  OPENCONVAI_WEBHOOK_ALLOW_PRIVATE: "true",
  OPENCONVAI_WEBHOOK_RETRY_SCHEDULE: "0,200ms",
  OPENCONVAI_WEBHOOK_RETRY_JITTER: "0",
  OPENCONVAI_WEBHOOK_POLL_MS: "50",
  OPENCONVAI_WEBHOOK_TIMEOUT_SECS: "2",
};

interface ListedDelivery {
  delivery_id: string;
  conversation_id: string | null;
  status: string;
  attempts: number;
}

describe("console webhooks page", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let receiver: WebhookReceiver;
  let context: BrowserContext;
  let page: Page;
  let secret = "";

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    server = await startConsoleServer(ENV);
    browser = await launchChromium();
    ({ context, page } = await newConsolePage(browser));
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  });

  afterAll(async () => {
    await context?.close();
    await closeChromium(browser);
    await server?.stop();
    await receiver?.close();
  });

  /** A text session of the official client that gets the agent's first message, then ends; answers its id. */
  async function finishConversation(): Promise<string> {
    const { agentId } = await server.client.conversationalAi.agents.create({
      conversationConfig: { agent: { firstMessage: "Hello from the webhooks test." } },
    });
    const session = await startTextSession(server.url, agentId);
    await session.waitFor("message", (m) => m.role === "agent");
    const conversationId = session.conversation.getId();
    await session.conversation.endSession();
    return conversationId;
  }

  /** The log's deliveries of one conversation, through the API. */
  async function deliveriesOf(conversationId: string): Promise<ListedDelivery[]> {
    const response = await server.fetch(
      `/v1/workspace/webhooks/deliveries?conversation_id=${encodeURIComponent(conversationId)}`,
    );
    return ((await response.json()) as { deliveries: ListedDelivery[] }).deliveries;
  }

  /** The log's table row of a conversation's delivery. */
  function logRow(conversationId: string) {
    return page
      .getByRole("table", { name: "Webhook deliveries, newest first" })
      .getByRole("row")
      .filter({ has: page.getByRole("link", { name: conversationId }) });
  }

  it("creates a webhook, shows its secret once with a copy button, and chooses it for post-call events", async () => {
    await signIn(page, server, "/webhooks");
    await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
    await page.getByText("No deliveries yet").waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Local receiver");
    await page.getByLabel("URL", { exact: true }).fill(receiver.url);
    await page.getByRole("button", { name: "Create webhook" }).click();

    const secretField = page.getByRole("textbox", { name: "Signing secret" });
    await secretField.waitFor();
    // The one-time secret takes the focus when it appears.
    await expect.poll(() => secretField.evaluate((el) => el === document.activeElement)).toBe(true);
    secret = await secretField.inputValue();
    expect(secret).toMatch(/^wsec_[0-9a-f]{64}$/);
    await expect
      .poll(() => page.getByRole("region", { name: "New webhook created" }).textContent())
      .toContain("It will not be shown again.");
    await page.getByRole("button", { name: "Copy secret" }).click();
    await page.getByText("Secret copied to the clipboard.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await expectAccessible(page, "the webhooks page showing a new secret");
    await page.getByRole("button", { name: "I have stored it" }).click();
    expect(await page.getByRole("textbox", { name: "Signing secret" }).count()).toBe(0);

    const endpoints = page.getByRole("table", { name: "Webhook endpoints" });
    const row = endpoints.getByRole("row").filter({ hasText: "Local receiver" });
    await row.waitFor();
    expect(await row.textContent()).toContain(receiver.url);
    expect(await row.textContent()).toContain("HMAC");
    expect(await row.textContent()).toContain("Enabled");

    await page.getByLabel("Post-call webhook").selectOption({ label: "Local receiver" });
    // Unset events send the transcript: it shows checked; choosing another sets the list.
    expect(await page.getByRole("checkbox", { name: "Transcript" }).isChecked()).toBe(true);
    await page.getByRole("checkbox", { name: "Call initiation failure" }).check();
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Post-call settings saved.").waitFor();

    const settings = (await (await server.fetch("/v1/convai/settings")).json()) as {
      webhooks: { post_call_webhook_id: string; events: string[]; transcript_format: string };
    };
    const listed = (await (await server.fetch("/v1/workspace/webhooks")).json()) as {
      webhooks: { webhook_id: string; name: string }[];
    };
    const created = listed.webhooks.find((w) => w.name === "Local receiver");
    expect(settings.webhooks.post_call_webhook_id).toBe(created?.webhook_id);
    expect(settings.webhooks.events).toEqual(["transcript", "call_initiation_failure"]);
    expect(settings.webhooks.transcript_format).toBe("json");
    // The list names where the webhook is used once the settings choose it.
    await expect.poll(() => row.textContent()).toContain("ConvAI Settings");
  });

  it("shows a finished conversation's delivery in the log, then redelivers it and shows the new attempt", async () => {
    const conversationId = await finishConversation();
    const arrived = await eventually(
      () => receiver.verified(secret),
      (events) => events.length >= 1,
      20_000,
    );
    expect(arrived).toHaveLength(1);
    expect(arrived[0]?.event.type).toBe("post_call_transcription");
    expect((arrived[0]?.event.data as { conversation_id: string } | undefined)?.conversation_id).toBe(
      conversationId,
    );
    const deliveryId = String(arrived[0]?.request.headers["openconvai-delivery-id"]);

    await page.getByRole("button", { name: "Refresh log" }).click();
    const row = logRow(conversationId);
    await row.waitFor();
    await expect.poll(() => row.textContent()).toContain("delivered");
    const text = await row.textContent();
    expect(text).toContain("post_call_transcription");
    expect(text).toContain("Local receiver");
    expect(text).toContain("1 of 2");
    expect(text).toContain("200");
    const link = row.getByRole("link", { name: conversationId });
    expect(await link.getAttribute("href")).toBe(`/conversations/${conversationId}`);

    await page.getByRole("button", { name: `Show attempts of delivery ${deliveryId}` }).click();
    const attempts = page.getByRole("table", { name: `Attempts of delivery ${deliveryId}` });
    await attempts.waitFor();
    expect(await attempts.getByRole("row").count()).toBe(2); // the header and one attempt

    await page.getByRole("button", { name: `Redeliver delivery ${deliveryId}` }).click();
    await page.getByText(`Delivery ${deliveryId} queued again`).waitFor();
    const again = await eventually(
      () => receiver.verified(secret),
      (events) => events.length >= 2,
      15_000,
    );
    expect(again).toHaveLength(2);
    expect(again[1]?.request.headers["openconvai-delivery-id"]).toBe(deliveryId);
    expect(again[1]?.request.headers["openconvai-delivery-attempt"]).toBe("2");
    // The log follows the replay by itself: the second attempt shows, and it is delivered again.
    await expect.poll(() => attempts.getByRole("row").count(), { timeout: 15_000 }).toBe(3);
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toMatch(/delivered.*2 of 3/);
    const [listed] = await deliveriesOf(conversationId);
    expect(listed?.attempts).toBe(2);
    expect(listed?.status).toBe("delivered");

    await screenshot(page, "webhooks");
  });

  it("shows a delivery the receiver answered 500 as failed, with its status, and filters the log by status", async () => {
    receiver.script.push({ status: 500, body: "receiver broke" }, { status: 500, body: "receiver broke" });
    const conversationId = await finishConversation();
    const final = await eventually(
      () => deliveriesOf(conversationId),
      (list) => list[0]?.status === "failed",
      20_000,
    );
    expect(final[0]?.status).toBe("failed");

    await page.getByRole("button", { name: "Refresh log" }).click();
    const row = logRow(conversationId);
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain("failed");
    expect(await row.textContent()).toContain("500");
    expect(await row.textContent()).toContain("2 of 2");

    await page.getByLabel("Status").selectOption("failed");
    await expect.poll(() => new URL(page.url()).searchParams.get("status")).toBe("failed");
    const rows = page.getByRole("table", { name: "Webhook deliveries, newest first" }).getByRole("row");
    await expect.poll(() => rows.count()).toBe(2); // the header and the failed delivery
    expect(await rows.nth(1).textContent()).toContain(conversationId);

    // The filter is in the address: opening it again shows the same view.
    await page.reload();
    await expect.poll(() => page.getByLabel("Status").inputValue()).toBe("failed");
    await expect.poll(() => rows.count()).toBe(2);
    // The endpoint shows its most recent failure.
    const endpoint = page
      .getByRole("table", { name: "Webhook endpoints" })
      .getByRole("row")
      .filter({ hasText: "Local receiver" });
    expect(await endpoint.textContent()).toContain("500");
  });

  it("filters the log by conversation, through the address", async () => {
    const [first] = (
      (await (await server.fetch("/v1/workspace/webhooks/deliveries")).json()) as {
        deliveries: ListedDelivery[];
      }
    ).deliveries.slice(-1);
    const conversationId = String(first?.conversation_id);
    await page.goto(`${server.url}/webhooks?conversation_id=${encodeURIComponent(conversationId)}`);
    const rows = page.getByRole("table", { name: "Webhook deliveries, newest first" }).getByRole("row");
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(1).textContent()).toContain(conversationId);
    expect(await page.getByLabel("Conversation ID").inputValue()).toBe(conversationId);
    await page.getByLabel("Conversation ID").fill("");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => new URL(page.url()).searchParams.has("conversation_id")).toBe(false);
    await expect.poll(() => rows.count()).toBe(3);
  });

  it("edits, disables, enables and deletes a webhook (after a confirmation)", async () => {
    await page.goto(`${server.url}/webhooks`);
    await page.getByLabel("Name", { exact: true }).fill("Spare");
    await page.getByLabel("URL", { exact: true }).fill("http://127.0.0.1:9/spare");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await page.getByRole("textbox", { name: "Signing secret" }).waitFor();
    await page.getByRole("button", { name: "I have stored it" }).click();

    const endpoints = page.getByRole("table", { name: "Webhook endpoints" });
    await page.getByRole("button", { name: "Edit Spare" }).click();
    await expectAccessible(page, "the webhooks page with the edit form open");
    await page.getByLabel("Webhook name").fill("Spare renamed");
    await page.getByRole("checkbox", { name: "Retry failed deliveries" }).uncheck();
    await page.getByRole("button", { name: "Save webhook" }).click();
    await page.getByText("Webhook “Spare renamed” saved.").waitFor();
    // Focus the pressed control's place once it is gone: the row's Edit button, or the heading.
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement;
        return el?.getAttribute("aria-label") ?? el?.textContent ?? "";
      });
    await expect.poll(focused).toMatch(/^Edit Spare/);
    const row = endpoints.getByRole("row").filter({ hasText: "Spare renamed" });
    await row.waitFor();
    const stored = (
      (await (await server.fetch("/v1/workspace/webhooks")).json()) as {
        webhooks: { name: string; retry_enabled: boolean; is_disabled: boolean }[];
      }
    ).webhooks.find((w) => w.name === "Spare renamed");
    expect(stored?.retry_enabled).toBe(false);

    await page.getByRole("button", { name: "Disable Spare renamed" }).click();
    await expect.poll(() => row.textContent()).toContain("Disabled");
    await page.getByRole("button", { name: "Enable Spare renamed" }).click();
    await expect.poll(() => row.textContent()).toContain("Enabled");

    await page.getByRole("button", { name: "Delete Spare renamed" }).click();
    const confirm = page.getByRole("group", { name: "Confirm deleting Spare renamed" });
    await expectAccessible(page, "the webhooks page asking to confirm a deletion");
    await confirm.getByRole("button", { name: "Keep it" }).click();
    expect(await row.count()).toBe(1);
    await expect.poll(focused).toBe("Edit Spare renamed");
    await page.getByRole("button", { name: "Delete Spare renamed" }).click();
    await confirm.getByRole("button", { name: "Delete webhook" }).click();
    await page.getByText("Webhook “Spare renamed” deleted.").waitFor();
    await expect.poll(focused).toBe("Endpoints");
    await expect.poll(() => row.count()).toBe(0);
    const remaining = (
      (await (await server.fetch("/v1/workspace/webhooks")).json()) as { webhooks: { name: string }[] }
    ).webhooks.map((w) => w.name);
    expect(remaining).toEqual(["Local receiver"]);
  });

  for (const colorScheme of ["light", "dark"] as const) {
    for (const [width, viewport] of [
      ["1280", DESKTOP],
      ["390", PHONE],
    ] as const) {
      it(`passes axe in ${colorScheme} mode at ${width} px, the log and an open delivery included`, async () => {
        const opened = await newConsolePage(browser, { viewport, colorScheme });
        try {
          await signIn(opened.page, server, "/webhooks");
          const table = opened.page.getByRole("table", { name: "Webhook deliveries, newest first" });
          await table.waitFor();
          await opened.page
            .getByRole("button", { name: /^Show attempts of delivery / })
            .first()
            .click();
          await opened.page.getByRole("table", { name: /^Attempts of delivery / }).waitFor();
          const overflow = await opened.page.evaluate(
            () => document.documentElement.scrollWidth - window.innerWidth,
          );
          expect(overflow).toBeLessThanOrEqual(0);
          await expectAccessible(opened.page, `the webhooks page (${colorScheme}, ${width} px)`);
        } finally {
          await opened.context.close();
        }
      });
    }
  }
});
