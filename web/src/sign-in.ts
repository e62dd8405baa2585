// Where the admin listener's sign-in page lives (it sets the admin session cookie).
export const SIGN_IN_PATH = '/login';
