import { useState } from 'preact/hooks';
import { apiKey } from './api.ts';

/** Asks once per tab; the key is kept in sessionStorage and sent only as a Bearer header. */
export const KeyForm = ({ onSaved }: { onSaved: () => void }) => {
  const [key, setKey] = useState('');
  const submit = (event: Event) => {
    event.preventDefault();
    if (key.trim() === '') return;
    apiKey.set(key.trim());
    onSaved();
  };
  return (
    <form class="card key-form" onSubmit={submit}>
      <h1>Sign in with an API key</h1>
      <p class="muted">
        A key with the <code>sessions:read</code> scope. It stays in this browser tab only and is forgotten
        when the tab closes.
      </p>
      <label>
        API key
        <input
          name="api-key"
          type="password"
          autocomplete="off"
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
        />
      </label>
      <button type="submit">Open the audit</button>
    </form>
  );
};
