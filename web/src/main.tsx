import { render } from 'preact';
import { App } from './app';
import { initSession } from './api';
import './styles.css';

void initSession();
render(<App />, document.getElementById('app')!);
