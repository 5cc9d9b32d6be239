// CAR v1 files with the reference JavaScript implementation (@ipld/car), to check that what
// Copytrack writes is read by others and that Copytrack reads what others write.
//   node reference_car.mjs read IN.car        prints the roots, then "blocks N verified"
//   node reference_car.mjs write FILE OUT.car imports FILE like `ipfs add --cid-version=1`, writes
//                                             all its blocks to OUT.car, prints the root
import { createReadStream, createWriteStream } from 'node:fs'
import { Readable } from 'node:stream'
import { CarReader, CarWriter } from '@ipld/car'
import { MemoryBlockstore } from 'blockstore-core'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { createHash } from 'node:crypto'

const [command, input, output] = process.argv.slice(2)

if (command === 'read') {
  const reader = await CarReader.fromIterable(createReadStream(input))
  for (const root of await reader.getRoots()) console.log(root.toString())
  let count = 0
  for await (const { cid, bytes } of reader.blocks()) {
    const digest = createHash('sha256').update(bytes).digest()
    if (Buffer.compare(digest, cid.multihash.digest) !== 0) throw new Error(`block ${cid} does not match its hash`)
    count++
  }
  console.log(`blocks ${count} verified`)
} else if (command === 'write') {
  const blockstore = new MemoryBlockstore()
  let root
  for await (const entry of importer([{ content: createReadStream(input) }], blockstore, {
    cidVersion: 1,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: 262144 }),
    layout: balanced({ maxChildrenPerNode: 174 })
  })) root = entry.cid
  const { writer, out } = CarWriter.create([root])
  const done = new Promise((resolve, reject) => {
    Readable.from(out).pipe(createWriteStream(output)).on('finish', resolve).on('error', reject)
  })
  for await (const { cid, bytes: chunks } of blockstore.getAll()) {
    const parts = []
    for await (const part of chunks) parts.push(part)
    await writer.put({ cid, bytes: Buffer.concat(parts) })
  }
  await writer.close()
  await done
  console.log(root.toString())
} else {
  console.error('usage: reference_car.mjs read IN.car | write FILE OUT.car')
  process.exit(2)
}
