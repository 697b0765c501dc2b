// The panels beside the editor, in the order the shell shows them. Each is
// `{id, title, mount(el, ctx)}`: the shell mounts it once into its own element and
// hands it `ctx` (the API, the server's events, the editor); see /api.md "The web app".

import "./panels.css";
import { testsPanel } from "./tests.js";
import { simulatorPanel } from "./simulator.js";
import { diagramPanel } from "./diagram.js";
import { callsPanel } from "./calls.js";
import { officePanel } from "./office.js";

export const panels = [testsPanel, simulatorPanel, diagramPanel, callsPanel, officePanel];
