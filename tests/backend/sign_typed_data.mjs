// A browser wallet's view of an upload answer: read the API's JSON text with JSON.parse (as a
// browser does), sign its EIP-712 message with viem through an anvil dev account (the node signs,
// eth_signTypedData_v4) and print what the relay endpoint needs.
// Usage: node sign_typed_data.mjs RPC_URL ADDRESS < answer.json
import { createWalletClient, http } from "viem";

const [rpcUrl, address] = process.argv.slice(2);
let text = "";
for await (const chunk of process.stdin) text += chunk;
const { typed_data: typed } = JSON.parse(text).registration_request;
const { EIP712Domain, ...types } = typed.types;
const wallet = createWalletClient({ transport: http(rpcUrl) });
const signature = await wallet.signTypedData({
  account: address,
  domain: typed.domain,
  types,
  primaryType: typed.primaryType,
  message: typed.message,
});
console.log(JSON.stringify({ signature, deadline: typed.message.deadline, salt: typed.message.salt,
                             phash: typed.message.phash }));
