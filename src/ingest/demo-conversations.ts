/**
 * Demo data for `openconvai seed --demo`: a dozen conversations across four agents, in the wire
 * shape the API serves, with silent MP3 audio (see silent-mp3.ts).
 *
 * The documents are deterministic for a given "now": start times are placed a fixed number of
 * minutes before it, so a fresh install shows recent activity. Ids are fixed, so seeding again
 * replaces the same twelve conversations instead of adding more.
 */

import { checkIncomingDocument, type IngestService } from "../conversations/conversation-service.js";
import type { ConversationDoc } from "../domain/conversation.js";
import type { UpsertOutcome } from "../store/store.js";
import { buildSilentMp3 } from "./silent-mp3.js";

interface DemoAgent {
  id: string;
  name: string;
}

const STORE: DemoAgent = { id: "agent_demo_store_support", name: "Acme Store Support" };
const BILLING: DemoAgent = { id: "agent_demo_billing", name: "Acme Billing Specialist" };
const DENTAL: DemoAgent = { id: "agent_demo_dental_reception", name: "Bright Smile Dental Reception" };
const HOTEL: DemoAgent = { id: "agent_demo_hotel_concierge", name: "Harbor Hotel Concierge" };

/** A tool the agent uses: the call, then its result one turn later. */
interface ToolUse {
  name: string;
  type: "webhook" | "system";
  params: Record<string, unknown>;
  /** What the tool answered; for system tools, the `result` object (with its `result_type`). */
  result: Record<string, unknown>;
  latency: number;
  /** Set when the tool failed: its error type and raw message. */
  error?: { type: string; message: string };
  url?: string;
  method?: string;
}

/** One step of a demo transcript: a spoken line, or a tool use by the agent. */
type Step = [role: "agent" | "user", atSecs: number, message: string] | { at: number; tool: ToolUse };

type Verdict = "success" | "failure" | "unknown";

interface DemoSpec {
  n: number;
  agent: DemoAgent;
  minutesAgo: number;
  language: string;
  timezone: string;
  userId: string | null;
  source: string;
  duration: number;
  steps: Step[];
  callSuccessful: Verdict;
  title: string;
  summary: string;
  evaluations: Record<string, [Verdict, string]>;
  data: Record<string, [unknown, string]>;
  dynamicVariables: Record<string, string | number | boolean>;
  termination: string;
  feedback?: { rating: number; comment: string | null };
  phoneCall?: Record<string, unknown>;
  status?: string;
  extra?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

const demoId = (n: number) => `conv_demo_${String(n).padStart(2, "0")}`;

const END_CALL = (at: number, reason: string): Step => ({
  at,
  tool: {
    name: "end_call",
    type: "system",
    params: { reason },
    result: { result_type: "end_call_success", status: "success", reason },
    latency: 0.01,
  },
});

function lookupOrder(
  at: number,
  orderId: string,
  result: Record<string, unknown>,
  error?: ToolUse["error"],
): Step {
  return {
    at,
    tool: {
      name: "lookup_order",
      type: "webhook",
      params: { order_id: orderId },
      result,
      latency: error ? 5.02 : 0.42,
      url: `https://shop.example.com/api/orders/${orderId}`,
      method: "GET",
      ...(error ? { error } : {}),
    },
  };
}

function webhook(
  at: number,
  name: string,
  params: Record<string, unknown>,
  result: Record<string, unknown>,
  url: string,
): Step {
  return {
    at,
    tool: {
      name,
      type: "webhook",
      params,
      result,
      latency: 0.35 + (name.length % 5) / 10,
      url,
      method: "POST",
    },
  };
}

const SPECS: DemoSpec[] = [
  {
    n: 1,
    agent: STORE,
    minutesAgo: 48,
    language: "en",
    timezone: "America/New_York",
    userId: "cus_4821",
    source: "widget",
    duration: 58,
    steps: [
      ["agent", 0, "Hi Maya, thanks for contacting Acme Store. How can I help you today?"],
      ["user", 4, "Hi! My blender arrived yesterday and the glass jar is cracked."],
      ["agent", 9, "I'm sorry to hear that. Could you tell me your order number so I can look it up?"],
      ["user", 15, "Sure, it's A-48213."],
      lookupOrder(18, "A-48213", {
        order_id: "A-48213",
        status: "delivered",
        items: [{ sku: "BL-900", name: "ProBlend 900 Blender", price: 89.99 }],
      }),
      [
        "agent",
        20,
        "Thanks for waiting. I can see the ProBlend 900 blender, delivered yesterday. I can refund the full $89.99 or send a replacement. Which would you prefer?",
      ],
      ["user", 29, "A refund, please. I'll pick a different model."],
      webhook(
        32,
        "create_return",
        { order_id: "A-48213", sku: "BL-900", resolution: "refund", reason: "damaged_on_arrival" },
        { return_id: "RMA-20931", refund_amount: 89.99, label_sent_to: "m***@example.com" },
        "https://shop.example.com/api/returns",
      ),
      [
        "agent",
        34,
        "Done. Your return number is RMA-20931 and a prepaid label is on its way to your email. The refund of $89.99 will reach your card within three to five business days.",
      ],
      ["user", 45, "Perfect, thank you so much."],
      ["agent", 47, "You're welcome, Maya. Is there anything else I can help with?"],
      ["user", 51, "No, that's all."],
      ["agent", 53, "Have a great day!"],
      END_CALL(54, "The customer's request was resolved."),
    ],
    callSuccessful: "success",
    title: "Refund for a damaged blender",
    summary:
      "Maya reported that her ProBlend 900 blender (order A-48213) arrived with a cracked jar. The agent looked up the order, offered a refund or a replacement, and created return RMA-20931 for a full refund of $89.99 with a prepaid label sent by email.",
    evaluations: {
      issue_resolved: ["success", "A return and a full refund were arranged."],
      followed_refund_policy: [
        "success",
        "The item was damaged on arrival, which qualifies for a full refund.",
      ],
    },
    data: {
      order_id: ["A-48213", "The customer gave the order number."],
      refund_amount: [89.99, "The return was created for $89.99."],
      customer_sentiment: ["positive", "The customer thanked the agent."],
    },
    dynamicVariables: { customer_name: "Maya", membership_tier: "gold" },
    termination: "end_call tool was called.",
    feedback: { rating: 5, comment: "Quick and painless, thanks!" },
    extra: { topic_ids: ["topic_returns"] },
  },
  {
    n: 2,
    agent: STORE,
    minutesAgo: 260,
    language: "es",
    timezone: "Europe/Madrid",
    userId: "cus_7730",
    source: "widget",
    duration: 38,
    steps: [
      ["agent", 0, "Hi, thanks for contacting Acme Store. How can I help you?"],
      ["user", 3, "Hola, ¿me puede decir dónde está mi pedido? Lo hice el lunes."],
      {
        at: 6,
        tool: {
          name: "language_detection",
          type: "system",
          params: { reason: "The user is speaking Spanish.", language: "es" },
          result: {
            result_type: "language_detection_success",
            status: "success",
            reason: "The user is speaking Spanish.",
            language: "es",
          },
          latency: 0.02,
        },
      },
      ["agent", 7, "¡Claro! ¿Me indica el número de pedido, por favor?"],
      ["user", 12, "Es el A-51877."],
      lookupOrder(14, "A-51877", {
        order_id: "A-51877",
        status: "in_transit",
        carrier: "SEUR",
        eta: "Thursday before 14:00",
      }),
      [
        "agent",
        16,
        "Su pedido salió ayer de nuestro almacén y viaja con SEUR. Debería llegar el jueves antes de las 14:00.",
      ],
      ["user", 24, "Genial. ¿Me pueden avisar por SMS cuando esté en reparto?"],
      ["agent", 27, "Por supuesto. He activado los avisos por SMS al número de su cuenta."],
      ["user", 33, "Muchas gracias, adiós."],
      ["agent", 35, "¡Gracias a usted! Que tenga un buen día."],
      END_CALL(36, "The customer said goodbye."),
    ],
    callSuccessful: "success",
    title: "Order tracking in Spanish",
    summary:
      "The customer asked in Spanish where order A-51877 was. The agent switched to Spanish, found the order in transit with SEUR for delivery on Thursday before 14:00, and turned on SMS delivery notifications.",
    evaluations: {
      issue_resolved: ["success", "The customer learned when the order will arrive."],
      followed_refund_policy: ["unknown", "No refund was discussed."],
    },
    data: {
      order_id: ["A-51877", "The customer gave the order number."],
      customer_sentiment: ["positive", "The customer was satisfied."],
    },
    dynamicVariables: { customer_name: "Lucía", membership_tier: "standard" },
    termination: "end_call tool was called.",
    feedback: { rating: 4, comment: null },
    extra: { topic_ids: ["topic_order_status"] },
  },
  {
    n: 3,
    agent: STORE,
    minutesAgo: 1390,
    language: "en",
    timezone: "America/Chicago",
    userId: "cus_3310",
    source: "react_sdk",
    duration: 41,
    steps: [
      ["agent", 0, "Hi, thanks for contacting Acme Store. How can I help you today?"],
      ["user", 4, "I want to know why my order hasn't shipped. It's been over a week."],
      ["agent", 8, "I can check that for you. What's your order number?"],
      ["user", 14, "B-10442."],
      lookupOrder(
        16,
        "B-10442",
        { error: "Order service returned HTTP 503" },
        { type: "http_error", message: "503 Service Unavailable: upstream order service did not respond" },
      ),
      [
        "agent",
        22,
        "I'm sorry, I'm having trouble reaching our order system right now. You could try again in a few minutes, or I can have someone email you an update. Which would you prefer?",
      ],
      ["user", 30, "This is the second time this has happened. Just email me."],
      [
        "agent",
        33,
        "Understood. I've noted your request, and a team member will email you about order B-10442 today. I apologise for the inconvenience.",
      ],
    ],
    callSuccessful: "failure",
    title: "Order status lookup failed",
    summary:
      "The customer asked why order B-10442 had not shipped. The order lookup failed with a service error, so the agent could not answer and promised an email update instead. The customer was frustrated and disconnected.",
    evaluations: {
      issue_resolved: ["failure", "The order lookup failed and the question was not answered."],
      followed_refund_policy: ["unknown", "No refund was discussed."],
    },
    data: {
      order_id: ["B-10442", "The customer gave the order number."],
      customer_sentiment: ["negative", "The customer said this had happened before."],
    },
    dynamicVariables: { customer_name: "Sam", membership_tier: "standard" },
    termination: "Client disconnected: 1000",
    feedback: { rating: 2, comment: "The agent couldn't find my order." },
    extra: { topic_ids: ["topic_order_status"] },
  },
  {
    n: 4,
    agent: DENTAL,
    minutesAgo: 1655,
    language: "en",
    timezone: "America/Los_Angeles",
    userId: null,
    source: "twilio",
    duration: 40,
    steps: [
      ["agent", 0, "Bright Smile Dental, this is Ava. How can I help you?"],
      ["user", 3, "Hi, I'd like to book a cleaning for next week."],
      ["agent", 7, "Happy to help. Are you already a patient with us?"],
      ["user", 10, "Yes, Daniel Okafor."],
      webhook(
        13,
        "check_availability",
        { procedure: "cleaning", week: "next" },
        { slots: ["Tue 09:30", "Wed 14:00", "Fri 11:15"] },
        "https://dental.example.com/api/availability",
      ),
      [
        "agent",
        15,
        "Thanks, Daniel. Next week I have Tuesday at 9:30, Wednesday at 2 PM, or Friday at 11:15. Which works best?",
      ],
      ["user", 23, "Wednesday at two is great."],
      webhook(
        25,
        "book_appointment",
        { patient_name: "Daniel Okafor", slot: "Wed 14:00", procedure: "cleaning" },
        { appointment_id: "APT-7719", confirmed: true, dentist: "Dr. Patel" },
        "https://dental.example.com/api/appointments",
      ),
      [
        "agent",
        27,
        "You're booked for a cleaning on Wednesday at 2 PM with Dr. Patel. You'll get a text reminder the day before.",
      ],
      ["user", 35, "Thanks, bye!"],
      END_CALL(36, "The appointment was booked."),
    ],
    callSuccessful: "success",
    title: "Cleaning booked for Wednesday",
    summary:
      "Existing patient Daniel Okafor called to book a cleaning. The agent checked availability and booked Wednesday at 2 PM with Dr. Patel (appointment APT-7719).",
    evaluations: {
      appointment_booked: ["success", "Appointment APT-7719 was confirmed."],
      collected_patient_details: ["success", "The patient gave their full name."],
    },
    data: {
      appointment_date: ["Wednesday 14:00", "The patient chose Wednesday at 2 PM."],
      procedure: ["cleaning", "The patient asked for a cleaning."],
      is_new_patient: [false, "The patient said they are already a patient."],
    },
    dynamicVariables: {
      clinic_location: "Mission St",
      system__caller_id: "+14155550198",
      system__called_number: "+14155550123",
      system__call_sid: "CAd3m0000000000000000000000000004",
    },
    termination: "end_call tool was called.",
    phoneCall: {
      type: "twilio",
      direction: "inbound",
      phone_number_id: "phnum_demo_dental_main",
      agent_number: "+14155550123",
      external_number: "+14155550198",
      stream_sid: "MZd3m0000000000000000000000000004",
      call_sid: "CAd3m0000000000000000000000000004",
      call_result: "answered",
    },
    extra: { topic_ids: ["topic_appointments"] },
  },
  {
    n: 5,
    agent: DENTAL,
    minutesAgo: 2910,
    language: "en",
    timezone: "America/Los_Angeles",
    userId: "patient_2207",
    source: "sip_trunk",
    duration: 31,
    steps: [
      [
        "agent",
        0,
        "Hello, this is Ava from Bright Smile Dental with a reminder about your appointment tomorrow at 10 AM. Can you still make it?",
      ],
      ["user", 7, "Oh, actually no, something came up at work. Can we move it?"],
      webhook(
        11,
        "check_availability",
        { procedure: "check-up", week: "this_or_next" },
        { slots: ["Thu 16:00", "Mon 08:30"] },
        "https://dental.example.com/api/availability",
      ),
      ["agent", 13, "No problem. I can offer Thursday at 4 PM or Monday at 8:30 AM."],
      ["user", 19, "Monday morning, please."],
      webhook(
        21,
        "reschedule_appointment",
        { appointment_id: "APT-7702", new_slot: "Mon 08:30" },
        { appointment_id: "APT-7702", confirmed: true },
        "https://dental.example.com/api/appointments/reschedule",
      ),
      ["agent", 23, "All set: you're now booked for Monday at 8:30 AM. See you then!"],
      ["user", 28, "Great, thanks."],
      END_CALL(29, "The appointment was rescheduled."),
    ],
    callSuccessful: "success",
    title: "Reminder call: appointment moved",
    summary:
      "Outbound reminder for Lucia Romero's check-up. The patient could not make it, so the agent offered two slots and rescheduled appointment APT-7702 to Monday at 8:30 AM.",
    evaluations: {
      appointment_booked: ["success", "The appointment was moved to a confirmed slot."],
      collected_patient_details: ["success", "The patient was known from the reminder list."],
    },
    data: {
      appointment_date: ["Monday 08:30", "The patient chose Monday morning."],
      procedure: ["check-up", "The reminder was for a check-up."],
      is_new_patient: [false, "The call was a reminder for an existing patient."],
    },
    dynamicVariables: {
      patient_name: "Lucia Romero",
      appointment_time: "tomorrow 10:00",
      system__called_number: "+14155550142",
    },
    termination: "end_call tool was called.",
    phoneCall: {
      type: "sip_trunking",
      direction: "outbound",
      phone_number_id: "phnum_demo_dental_sip",
      agent_number: "+14155550124",
      external_number: "+14155550142",
      call_sid: "sip_d3m0_0005",
      call_id: "a84b4c76e66710@pbx.dental.example.com",
      call_result: "answered",
    },
    metadata: {
      batch_call: { batch_call_id: "btcal_demo_reminders", batch_call_recipient_id: "btcrec_demo_2207" },
    },
    extra: { topic_ids: ["topic_appointments"] },
  },
  {
    n: 6,
    agent: DENTAL,
    minutesAgo: 3020,
    language: "en",
    timezone: "America/Los_Angeles",
    userId: null,
    source: "twilio",
    duration: 24,
    steps: [
      ["agent", 0, "Bright Smile Dental, this is Ava. How can I help you?"],
      ["user", 3, "Hi, I cracked a tooth this morning and it really hurts. Can someone see me today?"],
      [
        "agent",
        9,
        "I'm sorry you're in pain. For urgent problems I can connect you with our on-call dentist right now. Would you like me to transfer you?",
      ],
      ["user", 16, "Yes, please."],
      {
        at: 18,
        tool: {
          name: "transfer_to_number",
          type: "system",
          params: {
            transfer_number: "+14155550177",
            reason: "Dental emergency: cracked tooth, severe pain.",
          },
          result: {
            result_type: "transfer_to_number_twilio_success",
            status: "success",
            transfer_number: "+14155550177",
            reason: "Dental emergency: cracked tooth, severe pain.",
            client_message: "Connecting you now. Please stay on the line.",
            agent_message: "Caller has a cracked tooth with severe pain and wants to be seen today.",
            conference_name: "conf_demo_06",
          },
          latency: 0.8,
        },
      },
      ["agent", 19, "Connecting you now. Please stay on the line."],
    ],
    callSuccessful: "success",
    title: "Emergency transferred to on-call dentist",
    summary:
      "A caller with a cracked, painful tooth asked to be seen the same day. The agent offered and completed a transfer to the on-call dentist.",
    evaluations: {
      appointment_booked: ["unknown", "The caller was transferred before booking."],
      collected_patient_details: ["failure", "The caller's name was not collected before the transfer."],
    },
    data: {
      procedure: ["emergency", "The caller reported a cracked tooth."],
      is_new_patient: [null, "Not discussed."],
    },
    dynamicVariables: {
      clinic_location: "Mission St",
      system__caller_id: "+14155550165",
      system__called_number: "+14155550123",
      system__call_sid: "CAd3m0000000000000000000000000006",
    },
    termination: "Call transferred to +14155550177",
    phoneCall: {
      type: "twilio",
      direction: "inbound",
      phone_number_id: "phnum_demo_dental_main",
      agent_number: "+14155550123",
      external_number: "+14155550165",
      stream_sid: "MZd3m0000000000000000000000000006",
      call_sid: "CAd3m0000000000000000000000000006",
      call_result: "answered",
    },
    metadata: { features_usage: { transfer_to_number: { enabled: true, used: true } } },
    extra: { topic_ids: ["topic_emergencies"] },
  },
  {
    n: 7,
    agent: HOTEL,
    minutesAgo: 4350,
    language: "ja",
    timezone: "Asia/Tokyo",
    userId: "guest_1208",
    source: "react_native_sdk",
    duration: 52,
    steps: [
      ["agent", 0, "ハーバーホテル、コンシェルジュでございます。ご用件をお伺いいたします。"],
      ["user", 4, "明日のチェックアウトを少し遅らせることはできますか？"],
      ["agent", 9, "かしこまりました。何時ごろまでのご延長をご希望でしょうか？"],
      ["user", 14, "午後二時までお願いできますか。"],
      webhook(
        17,
        "request_late_checkout",
        { room_number: "1208", until: "14:00" },
        { approved: true, fee: 0 },
        "https://hotel.example.com/api/late-checkout",
      ),
      ["agent", 19, "午後二時までのレイトチェックアウトを承りました。追加料金はかかりません。"],
      ["user", 26, "ありがとうございます。あと、空港までのタクシーも予約できますか？"],
      ["agent", 31, "はい、何時にお呼びいたしましょうか？"],
      ["user", 35, "二時半でお願いします。"],
      webhook(
        38,
        "book_taxi",
        { room_number: "1208", pickup_time: "14:30", destination: "airport" },
        { booking_id: "TX-3381", confirmed: true },
        "https://hotel.example.com/api/taxi",
      ),
      ["agent", 40, "二時半にロビーへタクシーを手配いたしました。ほかにお手伝いできることはございますか？"],
      ["user", 47, "大丈夫です。ありがとう。"],
      ["agent", 49, "どうぞ素敵なご滞在をお過ごしください。"],
      END_CALL(50, "The guest's requests were handled."),
    ],
    callSuccessful: "success",
    title: "Late checkout and airport taxi (Japanese)",
    summary:
      "A guest in room 1208 asked in Japanese for a late checkout. The agent arranged checkout at 14:00 at no charge and booked a taxi to the airport for 14:30 (booking TX-3381).",
    evaluations: {
      guest_request_handled: ["success", "Both requests were confirmed."],
      polite_and_professional: ["success", "The agent used formal, polite Japanese throughout."],
    },
    data: {
      room_number: ["1208", "The room on the guest's profile."],
      request_type: ["late_checkout", "The guest asked to check out later."],
    },
    dynamicVariables: { guest_name: "佐藤 健", room_number: "1208", loyalty_member: true },
    termination: "end_call tool was called.",
    feedback: { rating: 5, comment: "とても丁寧で助かりました。" },
    extra: { topic_ids: ["topic_guest_requests"] },
  },
  {
    n: 8,
    agent: HOTEL,
    minutesAgo: 4470,
    language: "en",
    timezone: "America/Los_Angeles",
    userId: "guest_0415",
    source: "react_native_sdk",
    duration: 42,
    steps: [
      ["agent", 0, "Harbor Hotel concierge, good evening. How may I help?"],
      ["user", 3, "Hi, can you recommend a seafood restaurant within walking distance?"],
      [
        "agent",
        8,
        "Certainly. Our guests love Pier 7 Oyster Bar, about ten minutes' walk along the waterfront. Would you like me to book a table?",
      ],
      ["user", 16, "Yes, for two people at 7:30 tonight."],
      webhook(
        19,
        "book_restaurant",
        { restaurant: "Pier 7 Oyster Bar", party_size: 2, time: "19:30" },
        { confirmed: false, alternatives: ["19:00", "20:15"] },
        "https://hotel.example.com/api/restaurants/book",
      ),
      ["agent", 21, "7:30 is fully booked, but they have a table at 7 or at 8:15. Would either work?"],
      ["user", 27, "8:15 is fine."],
      webhook(
        29,
        "book_restaurant",
        { restaurant: "Pier 7 Oyster Bar", party_size: 2, time: "20:15" },
        { confirmed: true, reservation_id: "R-5520" },
        "https://hotel.example.com/api/restaurants/book",
      ),
      [
        "agent",
        31,
        "You're booked at Pier 7 Oyster Bar for two at 8:15 tonight under room 415. Enjoy your dinner!",
      ],
      ["user", 38, "Thank you!"],
      END_CALL(39, "The booking was made."),
    ],
    callSuccessful: "success",
    title: "Dinner reservation at Pier 7",
    summary:
      "A guest asked for a nearby seafood restaurant. The agent recommended Pier 7 Oyster Bar; 19:30 was full, so the agent booked a table for two at 20:15 (reservation R-5520).",
    evaluations: {
      guest_request_handled: ["success", "A reservation was confirmed."],
      polite_and_professional: ["success", "The agent was courteous and offered alternatives."],
    },
    data: {
      room_number: ["415", "The guest's room."],
      request_type: ["restaurant_booking", "The guest wanted dinner nearby."],
    },
    dynamicVariables: { guest_name: "Priya Shah", room_number: "415", loyalty_member: false },
    termination: "end_call tool was called.",
    extra: { topic_ids: ["topic_guest_requests"] },
  },
  {
    n: 9,
    agent: HOTEL,
    minutesAgo: 5780,
    language: "fr",
    timezone: "Europe/Paris",
    userId: "guest_0902",
    source: "react_native_sdk",
    duration: 20,
    steps: [
      ["agent", 0, "Bonjour, ici le concierge de l'Harbor Hotel. Comment puis-je vous aider ?"],
      ["user", 4, "Bonjour, à quelle heure part la navette pour l'aéroport demain matin ?"],
      [
        "agent",
        9,
        "La navette part toutes les heures, de 5 h à 11 h, devant l'entrée principale. Souhaitez-vous que je vous réserve une place ?",
      ],
      ["user", 17, "Euh, je vais d'abord vérifier l'heure de mon vol, merci."],
    ],
    callSuccessful: "unknown",
    title: "Airport shuttle times (French)",
    summary:
      "A guest asked in French when the airport shuttle leaves. The agent gave the hourly schedule and offered a seat; the guest left to check their flight time before booking.",
    evaluations: {
      guest_request_handled: ["unknown", "The guest left before deciding."],
      polite_and_professional: ["success", "The agent answered politely in French."],
    },
    data: {
      room_number: ["902", "The guest's room."],
      request_type: ["shuttle_information", "The guest asked about the shuttle."],
    },
    dynamicVariables: { guest_name: "Camille Martin", room_number: "902", loyalty_member: false },
    termination: "Client disconnected: 1006",
    extra: { topic_ids: ["topic_guest_requests"] },
  },
  {
    n: 10,
    agent: BILLING,
    minutesAgo: 6000,
    language: "en",
    timezone: "America/Denver",
    userId: "cus_5502",
    source: "twilio",
    duration: 22,
    steps: [
      [
        "agent",
        0,
        "Hi Jordan, this is Acme Billing following up on the duplicate charge you reported yesterday.",
      ],
      ["user", 6, "Oh hi, yes."],
      webhook(
        8,
        "get_credit_status",
        { credit_id: "CR-1902" },
        { credit_id: "CR-1902", status: "posted" },
        "https://billing.example.com/api/credits/status",
      ),
      [
        "agent",
        10,
        "Good news: the $42.50 credit has posted to your card. Is there anything else I can help with?",
      ],
      ["user", 17, "No, that's great. Thanks for following up!"],
      END_CALL(20, "The customer confirmed there was nothing else."),
    ],
    callSuccessful: "success",
    title: "Follow-up: credit posted",
    summary:
      "Follow-up call to Jordan about the duplicate charge from conversation conv_demo_11. The agent confirmed that credit CR-1902 of $42.50 had posted; the customer needed nothing else.",
    evaluations: {
      issue_resolved: ["success", "The credit was confirmed as posted."],
      verified_identity: ["unknown", "Outbound call to the number on file; no verification was needed."],
    },
    data: {
      invoice_id: ["INV-88121", "From the original dispute."],
      credit_amount: [42.5, "The posted credit."],
    },
    dynamicVariables: {
      customer_name: "Jordan",
      credit_id: "CR-1902",
      system__called_number: "+17205550133",
      system__call_sid: "CAd3m0000000000000000000000000010",
    },
    termination: "end_call tool was called.",
    feedback: { rating: 5, comment: "Great follow-up, problem solved." },
    phoneCall: {
      type: "twilio",
      direction: "outbound",
      phone_number_id: "phnum_demo_billing",
      agent_number: "+17205550100",
      external_number: "+17205550133",
      stream_sid: "MZd3m0000000000000000000000000010",
      call_sid: "CAd3m0000000000000000000000000010",
      call_result: "answered",
    },
    extra: { parent_conversation_id: demoId(11), topic_ids: ["topic_billing"] },
  },
  {
    n: 11,
    agent: STORE,
    minutesAgo: 7230,
    language: "en",
    timezone: "America/Denver",
    userId: "cus_5502",
    source: "widget",
    duration: 54,
    steps: [
      ["agent", 0, "Hi Jordan, thanks for contacting Acme Store. How can I help you today?"],
      ["user", 3, "Hi, I was charged twice for the same order this month."],
      [
        "agent",
        8,
        "I'm sorry about that. Let me bring in our billing specialist, who can look at your charges.",
      ],
      {
        at: 12,
        tool: {
          name: "transfer_to_agent",
          type: "system",
          params: { agent_number: 0, reason: "Billing dispute: duplicate charge." },
          result: {
            result_type: "transfer_to_agent_success",
            status: "success",
            from_agent: STORE.id,
            to_agent: BILLING.id,
            condition: "The customer has a billing or payment question.",
            delay_ms: 0,
            enable_transferred_agent_first_message: true,
          },
          latency: 0.05,
        },
      },
      [
        "agent",
        14,
        "Hi, I'm the billing specialist. To verify your account, can you confirm the email address on file?",
      ],
      ["user", 20, "It's jordan.lee@example.com."],
      webhook(
        23,
        "get_invoices",
        { email: "jordan.lee@example.com", period: "this_month" },
        {
          invoices: [
            { id: "INV-88120", amount: 42.5, order_id: "A-50310" },
            { id: "INV-88121", amount: 42.5, order_id: "A-50310" },
          ],
        },
        "https://billing.example.com/api/invoices/search",
      ),
      [
        "agent",
        25,
        "Thanks, Jordan. I can see two identical charges of $42.50 for order A-50310. The second one is a duplicate, so I'll issue a credit for it now.",
      ],
      ["user", 35, "Thank you."],
      webhook(
        36,
        "issue_credit",
        { invoice_id: "INV-88121", amount: 42.5, reason: "duplicate_charge" },
        { credit_id: "CR-1902", status: "pending" },
        "https://billing.example.com/api/credits",
      ),
      [
        "agent",
        38,
        "Done. The credit will appear on your statement within five business days, and we'll call you to confirm once it has posted.",
      ],
      ["user", 48, "Sounds good, bye."],
      END_CALL(50, "The billing issue was resolved."),
    ],
    callSuccessful: "success",
    title: "Duplicate charge credited",
    summary:
      "Jordan reported being charged twice for order A-50310. Store support transferred the call to the billing specialist, who verified the account by email, found duplicate invoice INV-88121 and issued credit CR-1902, with a follow-up call promised.",
    evaluations: {
      issue_resolved: ["success", "A credit for the duplicate charge was issued."],
      verified_identity: ["success", "The customer confirmed the email address on file."],
    },
    data: {
      invoice_id: ["INV-88121", "The duplicate invoice."],
      credit_amount: [42.5, "The credit issued."],
      customer_sentiment: ["neutral", "The customer was calm throughout."],
    },
    dynamicVariables: { customer_name: "Jordan", membership_tier: "silver" },
    termination: "end_call tool was called.",
    metadata: { features_usage: { transfer_to_agent: { enabled: true, used: true } } },
    extra: {
      visited_agents: [{ agent_id: STORE.id }, { agent_id: BILLING.id }],
      tag_ids: ["tag_demo_escalated"],
      topic_ids: ["topic_billing"],
    },
  },
  {
    n: 12,
    agent: STORE,
    minutesAgo: 8520,
    language: "en",
    timezone: "America/New_York",
    userId: "cus_4821",
    source: "widget",
    duration: 15,
    status: "failed",
    steps: [
      ["agent", 0, "Hi Maya, thanks for contacting Acme Store. How can I help you today?"],
      ["user", 4, "Hi, do you sell gift cards, and can I send one by email?"],
    ],
    callSuccessful: "failure",
    title: "Call failed before the agent answered",
    summary:
      "The customer asked about emailed gift cards, but the conversation failed before the agent could answer because the language model did not respond in time.",
    evaluations: {
      issue_resolved: ["failure", "The question was never answered."],
      followed_refund_policy: ["unknown", "No refund was discussed."],
    },
    data: { customer_sentiment: ["unknown", "The conversation ended too early to tell."] },
    dynamicVariables: { customer_name: "Maya", membership_tier: "gold" },
    termination: "Internal error: LLM request timed out",
    metadata: { error: { code: 1011, reason: "LLM request timed out" } },
    extra: { topic_ids: ["topic_gift_cards"] },
  },
];

function turnMetrics(seed: number): Record<string, unknown> {
  const t = (k: number) => Math.round((0.18 + ((seed * 37 + k * 11) % 47) / 100) * 1000) / 1000;
  return {
    metrics: {
      convai_llm_service_ttfb: { elapsed_time: t(1) },
      convai_llm_service_ttf_sentence: { elapsed_time: t(2) + 0.2 },
      convai_tts_service_ttfb: { elapsed_time: t(3) / 2 },
    },
  };
}

function buildTranscript(spec: DemoSpec): Record<string, unknown>[] {
  const transcript: Record<string, unknown>[] = [];
  let agentId = spec.agent.id;
  let requests = 0;
  for (const step of spec.steps) {
    if (Array.isArray(step)) {
      const [role, at, message] = step;
      const entry: Record<string, unknown> = {
        role,
        message,
        tool_calls: [],
        tool_results: [],
        feedback: null,
        time_in_call_secs: at,
        interrupted: false,
        source_medium: role === "user" ? "audio" : null,
      };
      if (role === "agent") {
        entry.agent_metadata = { agent_id: agentId, branch_id: null, workflow_node_id: null };
        entry.conversation_turn_metrics = turnMetrics(spec.n * 100 + at);
      }
      transcript.push(entry);
      continue;
    }
    const { at, tool } = step;
    requests++;
    const requestId = `${tool.name}_${spec.n}_${requests}`;
    const details =
      tool.type === "webhook"
        ? {
            type: "webhook",
            method: tool.method ?? "POST",
            url: tool.url ?? "",
            headers: { "content-type": "application/json" },
            body: tool.method === "GET" ? null : JSON.stringify(tool.params),
          }
        : null;
    const result: Record<string, unknown> = {
      type: tool.type,
      request_id: requestId,
      tool_name: tool.name,
      result_value: JSON.stringify(tool.result),
      is_error: tool.error !== undefined,
      tool_has_been_called: true,
      tool_latency_secs: tool.latency,
      error_type: tool.error?.type ?? null,
      raw_error_message: tool.error?.message ?? null,
    };
    if (tool.type === "system") result.result = tool.result;
    transcript.push(
      {
        role: "agent",
        message: null,
        agent_metadata: { agent_id: agentId, branch_id: null, workflow_node_id: null },
        tool_calls: [
          {
            type: tool.type,
            request_id: requestId,
            tool_name: tool.name,
            params_as_json: JSON.stringify(tool.params),
            tool_has_been_called: true,
            tool_details: details,
          },
        ],
        tool_results: [],
        feedback: null,
        time_in_call_secs: at,
      },
      {
        role: "agent",
        message: null,
        agent_metadata: { agent_id: agentId, branch_id: null, workflow_node_id: null },
        tool_calls: [],
        tool_results: [result],
        feedback: null,
        time_in_call_secs: at + Math.ceil(tool.latency),
      },
    );
    if (tool.result.result_type === "transfer_to_agent_success") agentId = String(tool.result.to_agent);
  }
  return transcript;
}

function buildDocument(spec: DemoSpec, nowUnixSecs: number): ConversationDoc {
  const id = demoId(spec.n);
  const start = nowUnixSecs - spec.minutesAgo * 60;
  const phone = spec.phoneCall !== undefined;
  const metadata: Record<string, unknown> = {
    start_time_unix_secs: start,
    accepted_time_unix_secs: start,
    call_duration_secs: spec.duration,
    cost: spec.duration * 11,
    deletion_settings: {
      deletion_time_unix_secs: null,
      deleted_logs_at_time_unix_secs: null,
      deleted_audio_at_time_unix_secs: null,
      deleted_transcript_at_time_unix_secs: null,
      delete_transcript_and_pii: false,
      delete_audio: false,
    },
    feedback: spec.feedback
      ? {
          type: "rating",
          overall_score: null,
          likes: 0,
          dislikes: 0,
          rating: spec.feedback.rating,
          comment: spec.feedback.comment,
        }
      : { type: null, overall_score: null, likes: 0, dislikes: 0, rating: null, comment: null },
    authorization_method: phone ? "authorization_header" : "signed_url",
    charging: {
      dev_discount: false,
      tier: "pro",
      llm_charge: spec.duration * 2,
      call_charge: spec.duration * 9,
    },
    phone_call: spec.phoneCall ?? null,
    termination_reason: spec.termination,
    main_language: spec.language,
    text_only: false,
    conversation_initiation_source: spec.source,
    timezone: spec.timezone,
    ...spec.metadata,
  };
  const evaluation_criteria_results: Record<string, unknown> = {};
  for (const [criterion, [result, rationale]] of Object.entries(spec.evaluations)) {
    evaluation_criteria_results[criterion] = { criteria_id: criterion, result, rationale };
  }
  const data_collection_results: Record<string, unknown> = {};
  for (const [field, [value, rationale]] of Object.entries(spec.data)) {
    data_collection_results[field] = { data_collection_id: field, value, rationale };
  }
  return {
    agent_id: spec.agent.id,
    agent_name: spec.agent.name,
    conversation_id: id,
    status: spec.status ?? "done",
    user_id: spec.userId,
    branch_id: null,
    version_id: null,
    transcript: buildTranscript(spec),
    metadata,
    analysis: {
      evaluation_criteria_results,
      data_collection_results,
      call_successful: spec.callSuccessful,
      transcript_summary: spec.summary,
      call_summary_title: spec.title,
    },
    conversation_initiation_client_data: {
      conversation_config_override: { agent: { language: spec.language } },
      custom_llm_extra_body: {},
      user_id: spec.userId,
      source_info: { source: spec.source, version: phone ? null : "0.9.2" },
      dynamic_variables: {
        ...spec.dynamicVariables,
        system__agent_id: spec.agent.id,
        system__conversation_id: id,
        system__time_utc: new Date(start * 1000).toISOString(),
        system__timezone: spec.timezone,
      },
    },
    ...spec.extra,
  };
}

/** The demo conversations, newest first, with start times a fixed number of minutes before `nowUnixSecs`. */
export function buildDemoConversations(nowUnixSecs: number): ConversationDoc[] {
  return [...SPECS]
    .sort((a, b) => a.minutesAgo - b.minutesAgo)
    .map((spec) => buildDocument(spec, nowUnixSecs));
}

/** What loading the demo did: each conversation's document and whether it was created or replaced. */
export interface DemoLoadResult {
  conversations: { doc: ConversationDoc; outcome: UpsertOutcome; audioBytes: number }[];
}

/** Loads the demo conversations (one transaction) and then their audio; loading again replaces them. */
export async function loadDemoConversations(
  ingest: Pick<IngestService, "putRecords" | "putAudio">,
  nowUnixSecs: number,
): Promise<DemoLoadResult> {
  const docs = buildDemoConversations(nowUnixSecs);
  const records = docs.map((doc) => {
    const checked = checkIncomingDocument(doc, undefined);
    if (!checked.ok) {
      throw new Error(
        `demo conversation ${String(doc.conversation_id)} is invalid: ${JSON.stringify(checked.issues)}`,
      );
    }
    return checked.record;
  });
  const outcomes = await ingest.putRecords(records);
  const conversations: DemoLoadResult["conversations"] = [];
  for (const [i, doc] of docs.entries()) {
    const audio = buildSilentMp3((doc.metadata as { call_duration_secs: number }).call_duration_secs);
    const stored = await ingest.putAudio(String(doc.conversation_id), audio, "audio/mpeg");
    if (!stored)
      throw new Error(
        `demo conversation ${String(doc.conversation_id)} vanished before its audio was stored`,
      );
    conversations.push({ doc, outcome: outcomes[i] ?? "created", audioBytes: audio.length });
  }
  return { conversations };
}
