import { render } from 'preact';
import { App } from './app';
import { initSession } from './api';
import { startGatewayWithSession } from './gateway';
import { wireChatStore } from './components/chatstore';
import './styles.css';
import './communities.css';

void initSession();
wireChatStore();
startGatewayWithSession();
render(<App />, document.getElementById('app')!);
