// The simulator's set-up: who calls (a desk's extension, a hot-desk phone, or an
// outside number on a trunk, the plan's names offered as the admin types), the number
// dialled and the office date and time. It hands a checked call to `onCall`; it says
// what is missing through `showError`.

import { h, replace } from "./dom.js";
import { get } from "./request.js";

// Monday, the engine's default office day, at the start of office hours.
const DEFAULT_DATE = "2026-11-23";
const DEFAULT_TIME = "10:00";
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

// `{form, hangUp}`: the form (its Call button submits it) and its Hang up button, which
// the simulator enables while a call is on. `onCall({caller, dial, time})` as
// `POST /api/simulate` takes them.
export function callSetup(ctx, { onCall, showError }) {
  const callerKind = h(
    "select",
    { class: "sb-caller-kind", "aria-label": "Who calls" },
    h("option", { value: "extension" }, "Extension"),
    h("option", { value: "device" }, "Hot-desk phone"),
    h("option", { value: "trunk" }, "Outside, on a trunk"),
  );
  const extensions = h("datalist", { id: uid("sb-extensions") });
  const devices = h("datalist", { id: uid("sb-devices") });
  const trunks = h("datalist", { id: uid("sb-trunks") });
  const extension = h("input", {
    class: "sb-caller-extension",
    list: extensions.id,
    value: "101",
    size: 8,
    "aria-label": "Calling extension",
  });
  const device = h("input", {
    class: "sb-caller-device",
    list: devices.id,
    placeholder: "001565AABBCC",
    size: 14,
    "aria-label": "Calling phone's MAC address",
  });
  const deviceUser = h("input", {
    class: "sb-caller-device-user",
    list: extensions.id,
    placeholder: "logged in as (optional)",
    size: 12,
    "aria-label": "Extension logged in at that phone",
  });
  const trunk = h("input", {
    class: "sb-caller-trunk",
    list: trunks.id,
    placeholder: "main",
    size: 8,
    "aria-label": "Trunk the call arrives on",
  });
  const outside = h("input", {
    class: "sb-caller-number",
    value: "+15555550100",
    size: 14,
    "aria-label": "Outside caller's number",
  });
  const dial = h("input", { class: "sb-dial", value: "999", size: 14, "aria-label": "Number dialled" });
  const date = h("input", { type: "date", class: "sb-date", value: DEFAULT_DATE, "aria-label": "Office date" });
  const weekday = h("span", { class: "sb-weekday" });
  const time = h("input", { type: "time", class: "sb-time", value: DEFAULT_TIME, "aria-label": "Office time" });
  const callButton = h("button", { type: "submit", class: "sb-primary sb-call" }, "Call");
  const hangUp = h("button", { type: "button", class: "sb-hangup", disabled: true }, "Hang up");

  const byKind = {
    extension: h("span", { class: "sb-caller-fields" }, extension),
    device: h("span", { class: "sb-caller-fields" }, device, " ", deviceUser),
    trunk: h("span", { class: "sb-caller-fields" }, trunk, " from ", outside),
  };
  const callerFields = h("span", {});
  const showCallerFields = () => replace(callerFields, byKind[callerKind.value]);
  callerKind.addEventListener("change", showCallerFields);
  showCallerFields();
  const showWeekday = () => {
    const d = new Date(`${date.value}T12:00:00`);
    weekday.textContent = Number.isNaN(d.getTime()) ? "" : DAYS[d.getDay()];
  };
  date.addEventListener("change", showWeekday);
  showWeekday();

  const form = h(
    "form",
    { class: "sb-sim-setup" },
    h("label", {}, "From ", callerKind),
    " ",
    callerFields,
    " ",
    h("label", {}, "dial ", dial),
    " ",
    h("label", {}, "at ", date),
    " ",
    weekday,
    " ",
    time,
    " ",
    callButton,
    " ",
    hangUp,
    extensions,
    devices,
    trunks,
  );

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const caller = callerFromForm();
    if (!caller) return;
    const number = dial.value.trim();
    if (!number) {
      showError("Say which number the call dials.");
      return;
    }
    onCall({ caller, dial: number, time: `${date.value || DEFAULT_DATE} ${time.value || DEFAULT_TIME}` });
  });

  function callerFromForm() {
    switch (callerKind.value) {
      case "extension": {
        const ext = extension.value.trim();
        if (!ext) return showError("Say which extension calls, like 101.");
        return { extension: ext };
      }
      case "device": {
        const mac = device.value.trim();
        if (!mac) return showError("Say which phone calls: its MAC address, like 001565AABBCC.");
        const as = deviceUser.value.trim();
        return as ? { device: mac, extension: as } : { device: mac };
      }
      default: {
        const name = trunk.value.trim();
        const from = outside.value.trim();
        if (!name || !from) return showError("Say the trunk the call arrives on and the outside number calling.");
        return { trunk: name, number: from };
      }
    }
  }

  // The plan's extensions and hot-desk phones (the office's SIP users) and trunks, read
  // again when the plan or the office changes.
  async function loadNames() {
    const [office, trunkList] = await Promise.all([
      get(ctx, "/api/office").catch(() => null),
      get(ctx, "/api/trunks").catch(() => null),
    ]);
    const users = (office && office.users) || [];
    const options = (names) => names.map((n) => h("option", { value: n }));
    replace(extensions, options(users.filter((u) => u.kind === "extension").map((u) => u.name)));
    replace(devices, options(users.filter((u) => u.kind === "device").map((u) => u.name)));
    replace(trunks, options(((trunkList && trunkList.trunks) || []).filter((t) => t.in_plan !== false).map((t) => t.name)));
  }
  loadNames();
  ctx.events.on("plan", loadNames);
  ctx.events.on("office", loadNames);

  return { form, hangUp };
}

let uids = 0;
// An id for a datalist, unique in the page.
function uid(prefix) {
  uids += 1;
  return `${prefix}-${uids}`;
}
