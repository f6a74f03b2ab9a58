import { Alert, AppShell, Burger, Button, Center, Group, Loader, NavLink, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Suspense, useEffect, useState, type FormEvent } from 'react';
import { errorMessage, fetchSession, onUnauthorized, signIn, signOut } from './api';
import { tabs } from './tabs';

/** The tab named by the URL hash (`#/contacts`), the first one otherwise. */
function useHashTab(): [string, (id: string) => void] {
  const read = () => window.location.hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  const [id, setId] = useState(read);
  useEffect(() => {
    const onChange = () => setId(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return [id, (next) => (window.location.hash = `/${next}`)];
}

export function App() {
  const queryClient = useQueryClient();
  const session = useQuery({ queryKey: ['session'], queryFn: fetchSession, staleTime: 60_000 });
  // Any 401 from the API (the session expired meanwhile) brings the sign-in page back.
  useEffect(() => onUnauthorized(() => void queryClient.invalidateQueries({ queryKey: ['session'] })), [queryClient]);

  if (session.isPending) {
    return (
      <Center h="100vh">
        <Loader />
      </Center>
    );
  }
  if (session.isError) {
    return (
      <Center h="100vh">
        <Alert color="red" title="The API does not answer">
          {errorMessage(session.error)}
        </Alert>
      </Center>
    );
  }
  if (!session.data.signedIn) return <SignIn enabled={session.data.signInEnabled} message={session.data.message} />;
  return <Shell />;
}

function SignIn({ enabled, message }: { enabled: boolean; message?: string }) {
  const queryClient = useQueryClient();
  const [password, setPassword] = useState('');
  const mutation = useMutation({
    mutationFn: () => signIn(password),
    onSuccess: (s) => {
      // Another session's data must not show (the session query itself is observed: it is updated, not removed).
      queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== 'session' });
      queryClient.setQueryData(['session'], s);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    mutation.mutate();
  };
  return (
    <Center h="100vh" bg="gray.0">
      <Paper withBorder shadow="sm" p="xl" w={380}>
        <form onSubmit={submit}>
          <Stack>
            <Title order={3}>moisson console</Title>
            {!enabled ? (
              <Alert color="orange" title="Sign-in disabled">
                {message ?? 'The API server has no console password.'}
              </Alert>
            ) : (
              <>
                <PasswordInput label="Password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} autoFocus required />
                {mutation.isError && (
                  <Alert color="red" role="alert">
                    {errorMessage(mutation.error)}
                  </Alert>
                )}
                <Button type="submit" loading={mutation.isPending}>
                  Sign in
                </Button>
              </>
            )}
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}

function Shell() {
  const queryClient = useQueryClient();
  const [opened, { toggle }] = useDisclosure();
  const [hashId, go] = useHashTab();
  const current = tabs.find((t) => t.id === hashId) ?? tabs[0]!;
  const Current = current.component;
  const out = useMutation({
    mutationFn: signOut,
    onSettled: () => {
      queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== 'session' });
      void queryClient.invalidateQueries({ queryKey: ['session'] });
    },
  });
  return (
    <AppShell header={{ height: 52 }} navbar={{ width: 210, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group>
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" />
            <Title order={4}>moisson</Title>
            <Text c="dimmed" size="sm">
              operator console
            </Text>
          </Group>
          <Button variant="subtle" size="xs" onClick={() => out.mutate()} loading={out.isPending}>
            Sign out
          </Button>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        {tabs.map((t) => (
          <NavLink key={t.id} href={`#/${t.id}`} label={t.label} active={t.id === current.id} onClick={() => go(t.id)} />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        {/* A tab's chunk loads the first time it opens. */}
        <Suspense
          fallback={
            <Center p="xl">
              <Loader />
            </Center>
          }
        >
          <Current key={current.id} />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
