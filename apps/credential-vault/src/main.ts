import 'reflect-metadata';
import { runStandalone } from '#libs/runtime';
import { startCredentialVault } from './credential-vault.module.js';

await runStandalone('credential-vault', startCredentialVault);
