// The widget's look. The host element is the site's to style, and a site's rules beat
// `:host` ones unless those are !important; inherited properties (font, colour, letter
// spacing) would flow from it into the shadow root. So the host is reset with !important
// and the look starts at `.frame`, which no rule of the site can reach.

export const STYLE = `
:host { all: initial !important; }
.frame { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330;
  letter-spacing: normal; word-spacing: normal; text-transform: none; text-align: left; }
[hidden] { display: none !important; }
.bubble { width: 56px; height: 56px; border-radius: 50%; border: 0; background: #2d5be3;
  color: #fff; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); display: grid; place-items: center;
  float: right; }
.bubble:focus-visible, button:focus-visible { outline: 3px solid #9db4f5; outline-offset: 2px; }
.panel { position: absolute; right: 0; bottom: 68px; width: 320px; max-width: calc(100vw - 40px);
  height: 440px; max-height: calc(100vh - 110px); display: flex; flex-direction: column;
  background: #fff; border-radius: 10px; box-shadow: 0 8px 30px rgba(0,0,0,.25); overflow: hidden; }
header { background: #2d5be3; color: #fff; padding: 10px 14px; display: flex;
  justify-content: space-between; align-items: baseline; }
.office { font-weight: 600; }
.status { font-size: 12px; opacity: .85; }
.log { flex: 1; overflow-y: auto; padding: 10px; display: flex; flex-direction: column; gap: 6px; }
.line { max-width: 85%; padding: 6px 10px; border-radius: 10px; white-space: pre-wrap;
  overflow-wrap: anywhere; }
.line.visitor { align-self: flex-end; background: #2d5be3; color: #fff; }
.line.agent { align-self: flex-start; background: #eef1f7; }
.line.system { align-self: center; background: none; color: #5b6475; font-size: 12px; }
.who { display: block; font-size: 11px; opacity: .75; }
.ended, .error, .sent { margin: 0 10px 8px; padding: 6px 10px; border-radius: 6px; font-size: 13px; }
.ended { background: #eef1f7; color: #3a4356; text-align: center; }
.error { background: #fdecec; color: #8a1c1c; }
.reply { display: flex; gap: 6px; padding: 8px; border-top: 1px solid #e3e7ef; }
.input, .offline input, .offline textarea { flex: 1; font: inherit; border: 1px solid #c5ccda;
  border-radius: 6px; padding: 6px 8px; resize: none; box-sizing: border-box; width: 100%; }
.send { font: inherit; border: 0; border-radius: 6px; background: #2d5be3; color: #fff;
  padding: 6px 14px; cursor: pointer; }
.send:disabled { background: #9aa6c0; cursor: default; }
.offline { padding: 10px; display: flex; flex-direction: column; gap: 8px; overflow-y: auto; }
.offline label { display: flex; flex-direction: column; gap: 2px; font-size: 13px; }
.note { margin: 0; color: #3a4356; font-size: 13px; }
`;
