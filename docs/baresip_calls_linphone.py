"""baresip (101) calls linphonec (102) through `switchboard run` on its defaults, each
sending a tone of its own; docs/second-client.md shows the run and how to check what each
heard. Run from a folder holding lp/linphonerc, bs/config and tone1000.wav as that page
describes, with the server already running."""
import subprocess, socket, json, time, os
lp = subprocess.Popen(["linphonec","-S","-c","./lp/linphonerc","-d","5","-l","./lp/log"],
    stdin=subprocess.PIPE, stdout=open("./lp/out","w"), stderr=subprocess.DEVNULL, env=dict(os.environ, HOME="./lp"), text=True)
def lpc(c): lp.stdin.write(c+"\n"); lp.stdin.flush(); time.sleep(0.5)
time.sleep(1)
lpc("soundcard use files"); lpc("autoanswer enable")
lpc("register sip:102@127.0.0.1 sip:127.0.0.1 copper-meadow-harbor")
bs = subprocess.Popen(["baresip","-f","./bs","-s"], stdout=open("./bs/out","w"), stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=dict(os.environ, HOME="./bs"))
time.sleep(1.5)
def bsc(cmd, params):
    s=socket.create_connection(("127.0.0.1",44311)); b=json.dumps({"command":cmd,"params":params,"token":"1"})
    s.sendall(f"{len(b)}:{b},".encode()); time.sleep(0.7); s.close()
bsc("uafind","x")
bsc("uanew","<sip:101@127.0.0.1>;auth_pass=lantern-orchard-sixty;regint=600")
time.sleep(2)
bsc("dial","sip:102@127.0.0.1")
time.sleep(2)
lpc("play ./tone1000.wav"); lpc("record ./lp/heard.wav")
time.sleep(4)
bsc("hangup","")
time.sleep(1.5)
lpc("quit"); time.sleep(0.5); bs.terminate(); lp.terminate()
