/** Test-only: what the installed PHP says about ini directives. */
import { assertRunOk, run } from "./processes";

/** Every ini directive the installed php CLI knows (core and loaded extensions). */
export function knownIniDirectives(env?: NodeJS.ProcessEnv): Set<string> {
  const r = run("php", ["-r", "echo json_encode(array_keys(ini_get_all()));"], { env });
  assertRunOk(r, "php ini_get_all");
  return new Set(JSON.parse(r.stdout) as string[]);
}

/** Current values (as PHP reports them) of the given directives, with extra ini scan dirs. */
export function iniValues(keys: string[], env?: NodeJS.ProcessEnv): Record<string, string | false> {
  const r = run("php", ["-r", "$o = []; foreach (json_decode($argv[1]) as $k) { $o[$k] = ini_get($k); } echo json_encode($o);", JSON.stringify(keys)], { env });
  assertRunOk(r, "php ini_get");
  return JSON.parse(r.stdout) as Record<string, string | false>;
}

/** `key = value` pairs of an ini text (comments and sections skipped, quotes stripped). */
export function parseIni(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z0-9_.]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m?.[1] === undefined || m[2] === undefined) continue;
    out.push([m[1], m[2].replace(/^"(.*)"$/, "$1")]);
  }
  return out;
}
