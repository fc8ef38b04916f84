// Prints, for each Draco stream named on the command line, [type, normalized] of each attribute as
// Draco's own decoder (three.js's copy, handed over as a CommonJS file) reads them.
const fs = require("fs");
const DracoDecoderModule = require(process.argv[2]);
DracoDecoderModule({}).then((draco) => {
  const out = process.argv.slice(3).map((path) => {
    const bytes = fs.readFileSync(path);
    const decoder = new draco.Decoder();
    const buffer = new draco.DecoderBuffer();
    buffer.Init(new Int8Array(bytes), bytes.length);
    const mesh = new draco.Mesh();
    const status = decoder.DecodeBufferToMesh(buffer, mesh);
    if (!status.ok()) return { error: status.error_msg() };
    const attributes = [];
    for (let i = 0; i < mesh.num_attributes(); i++) {
      const attribute = decoder.GetAttribute(mesh, i);
      attributes.push({ type: attribute.attribute_type(), id: attribute.unique_id(), normalized: attribute.normalized() });
    }
    return { attributes };
  });
  console.log(JSON.stringify(out));
});
