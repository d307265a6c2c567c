#!/usr/bin/env node
/**
 * The `ovsim` command. Every subcommand is declared here, light, and imports its
 * implementation only when it runs, so that `ovsim --version` (and the CNI plugin,
 * started once per container) pays for commander and nothing else.
 *
 * Exit codes: 0 success, 1 a command's own failure (its message on stderr), 2 a
 * usage error (commander's).
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

// A reader that goes away (`ovsim run demo.ts | head`) is not an error: stop quietly,
// as the OVS tools do.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

const program = new Command()
  .name("ovsim")
  .description("A software-defined network simulator that behaves like Open vSwitch")
  .version(pkg.version)
  .exitOverride()
  .showHelpAfterError();

program
  .command("parse-pcap")
  .description("print the OpenFlow flow of each packet in a capture, as `ovs-ofctl parse-pcap`")
  .argument("<file...>", "pcap or pcapng capture(s)")
  .action(async (files: string[]) => {
    const { parsePcapCommand } = await import("./parse-pcap.js");
    return parsePcapCommand(files, process.stdout);
  });

program
  .command("run")
  .description("run a topology file (TypeScript, YAML or JSON) and print what it asks for")
  .argument("<file>", "a topology: FILE.ts, FILE.yaml or FILE.json")
  .action(async (file: string) => {
    const { runCommand } = await import("./run.js");
    return runCommand(file, process.stdout);
  });

program
  .command("ovsdb-server")
  .description("serve OVSDB database files over JSON-RPC, as ovsdb-server(1)")
  .argument("<dbfile...>", "database file(s) in OVS's standalone log format")
  .option(
    "--remote <remote>",
    "listen on punix:PATH or ptcp:PORT[:ADDR] (repeatable; ADDR defaults to 127.0.0.1)",
    (value: string, previous: string[]) => [...previous, value],
    [] as string[],
  )
  .option("--schema <file>", "create a DBFILE that does not exist from this schema")
  .action(async (dbFiles: string[], opts: { remote: string[]; schema?: string }) => {
    const { ovsdbServerCommand } = await import("./ovsdb-server.js");
    return ovsdbServerCommand(dbFiles, opts);
  });

program
  .command("trace")
  .description("run an ofproto/trace reference case and print its answer as JSON")
  .requiredOption("--case <file>", "a case file in the ofproto-trace reference format")
  .action(async (opts: { case: string }) => {
    const { traceCommand } = await import("./trace.js");
    return traceCommand(opts, process.stdout);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`ovsim: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
