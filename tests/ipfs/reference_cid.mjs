// Prints the CID that the reference UnixFS importer (ipfs-unixfs-importer, used by Helia and
// js-ipfs) gives each file named on the command line, with the settings of Kubo's
// `ipfs add --cid-version=1`. One CID per line, in argument order. REFERENCE_CHUNK_SIZE overrides
// the chunk size so tests can reach deep tree levels with small files.
import { createReadStream } from 'node:fs'
import { BlackHoleBlockstore } from 'blockstore-core'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'

const kuboCidV1 = {
  cidVersion: 1,
  rawLeaves: true,
  reduceSingleLeafToSelf: true,
  chunker: fixedSize({ chunkSize: Number(process.env.REFERENCE_CHUNK_SIZE ?? 262144) }),
  layout: balanced({ maxChildrenPerNode: 174 }),
  wrapWithDirectory: false
}

const blockstore = new BlackHoleBlockstore()
for (const path of process.argv.slice(2)) {
  let root
  for await (const entry of importer([{ content: createReadStream(path) }], blockstore, kuboCidV1)) {
    root = entry.cid
  }
  console.log(root.toString())
}
