const [file, ...names] = process.argv.slice(2);
const m = await import(file);
for (const f of m.benchmarks) if (!names.length || names.includes(f.name)) console.log(f.name, await f.measure());
process.exit(0);
