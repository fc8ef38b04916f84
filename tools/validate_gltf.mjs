// Validate GLB files with the Khronos glTF validator; prints one JSON report summary per file.
import { readFileSync } from "node:fs";
import validator from "gltf-validator";

const results = [];
for (const path of process.argv.slice(2)) {
  const report = await validator.validateBytes(new Uint8Array(readFileSync(path)), {
    maxIssues: 50,
  });
  results.push({
    path,
    errors: report.issues.numErrors,
    warnings: report.issues.numWarnings,
    messages: report.issues.messages
      .filter((m) => m.severity <= 1)
      .map((m) => `${m.code} ${m.pointer ?? ""}: ${m.message}`),
  });
}
console.log(JSON.stringify(results));
